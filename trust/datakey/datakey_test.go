package datakey

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"medagent/trust/internal/swtpmtest"
)

func noTPM(t *testing.T) {
	old := statTPM
	statTPM = func(string) (os.FileInfo, error) { return nil, fs.ErrNotExist }
	t.Cleanup(func() { statTPM = old })
}

func TestFileKey(t *testing.T) {
	noTPM(t)
	p := filepath.Join(t.TempDir(), "data.key")
	k, err := Load(Options{File: p})
	if err != nil {
		t.Fatal(err)
	}
	if len(k) != Size || bytes.Equal(k, make([]byte, Size)) {
		t.Fatalf("key %x", k)
	}
	k2, err := Load(Options{File: p})
	if err != nil || !bytes.Equal(k, k2) {
		t.Fatalf("second Load: %x, %v; want the same key", k2, err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o640 {
		t.Errorf("new key has mode %v, want 0640 (group: the spool reader)", st.Mode().Perm())
	}
	os.Chmod(p, 0o644)
	if _, err := Load(Options{File: p}); !errors.Is(err, ErrKeyPermissions) {
		t.Fatalf("world-readable key: %v, want ErrKeyPermissions", err)
	}
	os.Chmod(p, 0o660)
	if _, err := Load(Options{File: p}); !errors.Is(err, ErrKeyPermissions) {
		t.Fatalf("group-writable key: %v, want ErrKeyPermissions", err)
	}
	os.WriteFile(p, []byte("short"), 0o600)
	os.Chmod(p, 0o600)
	if _, err := Load(Options{File: p}); err == nil {
		t.Fatal("5-byte key accepted")
	}
	if k3, err := Load(Options{File: p + "2", TPM: "off"}); err != nil || len(k3) != Size {
		t.Fatalf("TPM off: %v", err)
	}
	if _, err := Load(Options{}); err == nil {
		t.Fatal("no file configured accepted")
	}
}

func TestTPMSealedKey(t *testing.T) {
	state := filepath.Join(t.TempDir(), "tpm")
	sim := swtpmtest.Start(t, state)
	p := filepath.Join(t.TempDir(), "data.sealed")
	k, err := Load(Options{TPM: sim.Path, File: p})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(p)
	if bytes.Contains(raw, k) || !bytes.HasPrefix(raw, []byte(magic)) {
		t.Fatal("the blob file holds the key in clear or lacks the magic")
	}
	sim.Stop()
	sim = swtpmtest.Start(t, state)
	k2, err := Load(Options{TPM: sim.Path, File: p})
	if err != nil || !bytes.Equal(k, k2) {
		t.Fatalf("after TPM restart: %x, %v; want %x", k2, err, k)
	}
	// Another TPM (a stolen card in another device) cannot unseal it.
	other := swtpmtest.Start(t, filepath.Join(t.TempDir(), "other"))
	if _, err := Load(Options{TPM: other.Path, File: p}); err == nil {
		t.Fatal("another TPM unsealed the key")
	}
	// A tampered blob is refused.
	raw[len(raw)-3] ^= 1
	os.WriteFile(p, raw, 0o600)
	if _, err := Load(Options{TPM: sim.Path, File: p}); err == nil {
		t.Fatal("tampered blob unsealed")
	}
}

func FuzzDecodeBlob(f *testing.F) {
	f.Add([]byte(magic + "\x00\x02\x00\x00\x00\x02\x00\x00"))
	f.Add([]byte("MDK1"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		bl, err := decodeBlob(b)
		if err != nil {
			return
		}
		if _, err := decodeBlob(bl.encode()); err != nil {
			t.Fatalf("re-decode of an accepted blob: %v", err)
		}
	})
}
