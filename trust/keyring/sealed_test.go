package keyring

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"medagent/internal/authfile"
	"medagent/trust/command"
	"medagent/trust/floor"
	"medagent/trust/internal/swtpmtest"
)

var sealKey = bytes.Repeat([]byte{7}, 32)

// TestOpenSealed: the provisioned plain keyring is sealed at the first
// Open; changes by Apply go to both files and survive a restart; a change
// cut short between the sealed copy and the plain file stays in force.
func TestOpenSealed(t *testing.T) {
	old, upd := ecKey(t), ecKey(t)
	g := newRig(t, old.Public(), upd.Public())
	r, opened, err := Open(g.path, sealKey, nil)
	if err != nil || !opened.Sealed || opened.Restored != "" {
		t.Fatalf("first Open: %+v, %v", opened, err)
	}
	if st, err := os.Stat(g.path + SealedSuffix); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("sealed copy: %v, %v", st, err)
	}
	if _, opened, err = Open(g.path, sealKey, nil); err != nil || opened.Sealed || opened.Restored != "" {
		t.Fatalf("second Open: %+v, %v", opened, err)
	}
	// A signed change through the sealed ring.
	g.ring = r
	_, next, _ := ed25519.GenerateKey(rand.Reader)
	enc, _ := EncodeKey(next.Public())
	if ok, err := g.send(t, "ops-1", old, map[string]string{"keyring.version": "2", "keyring.set": "command", "keyring.add_id": "ops-2", "keyring.add_key": enc}, nil); !ok || err != nil {
		t.Fatalf("apply: %v %v", ok, err)
	}
	plainV2, _ := os.ReadFile(g.path)
	r, opened, err = Open(g.path, sealKey, nil)
	if err != nil || opened.Restored != "" || r.Version() != 2 {
		t.Fatalf("after the change: version %d, %+v, %v", r.Version(), opened, err)
	}
	if _, ok := r.CommandKey("ops-2"); !ok {
		t.Error("the applied key is not in the reopened keyring")
	}
	// Power cut after the sealed copy, before the plain file: simulate with
	// the plain file of version 1.
	plain, _ := Load(g.path)
	plain.f.Version = 1
	plain.writeView()
	r, opened, err = Open(g.path, sealKey, nil)
	if err != nil || r.Version() != 2 || !strings.Contains(opened.Restored, "version 1 in the file, 2 sealed") {
		t.Fatalf("change cut short: version %d, %+v, %v", r.Version(), opened, err)
	}
	if got, _ := os.ReadFile(g.path); !bytes.Equal(got, plainV2) {
		t.Errorf("plain file not rewritten from the sealed copy:\n%s", got)
	}
}

// TestOpenSealedFailsClosed: a sealed copy that fails its check refuses
// the keyring, on every attempt, whatever the plain file holds; recovery
// is provisioning again.
func TestOpenSealedFailsClosed(t *testing.T) {
	k := ecKey(t)
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, sealed string)
		err    error
	}{
		{"body edited", func(t *testing.T, sealed string) {
			b, _ := os.ReadFile(sealed)
			b = bytes.Replace(b, []byte(`"id": "rel"`), []byte(`"id": "evil"`), 1)
			os.WriteFile(sealed, b, 0o600)
		}, authfile.ErrAuth},
		{"sealed with another device key", func(t *testing.T, sealed string) {
			r, _ := Load(strings.TrimSuffix(sealed, SealedSuffix))
			b, err := authfile.Marshal(bytes.Repeat([]byte{8}, 32), sealedFormat, format, r.f)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(sealed, b, 0o600)
		}, authfile.ErrAuth},
		{"others may write it", func(t *testing.T, sealed string) { os.Chmod(sealed, 0o666) }, authfile.ErrOwner},
		{"a symbolic link", func(t *testing.T, sealed string) {
			os.Rename(sealed, sealed+".elsewhere")
			os.Symlink(sealed+".elsewhere", sealed)
		}, authfile.ErrOwner},
		{"truncated", func(t *testing.T, sealed string) { os.WriteFile(sealed, []byte(`{"format":`), 0o600) }, authfile.ErrAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "keyring.json")
			if _, err := Create(p, []Key{key(t, "ops", k.Public())}, []Key{key(t, "rel", k.Public())}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := Open(p, sealKey, nil); err != nil {
				t.Fatal(err)
			}
			tc.tamper(t, p+SealedSuffix)
			for range 2 {
				if _, _, err := Open(p, sealKey, nil); !errors.Is(err, ErrTampered) || !errors.Is(err, tc.err) {
					t.Fatalf("Open: %v, want ErrTampered and %v", err, tc.err)
				}
			}
			// Provisioning again: both files removed, a new keyring written.
			os.Remove(p)
			os.Remove(p + SealedSuffix)
			if _, err := Create(p, []Key{key(t, "ops", k.Public())}, []Key{key(t, "rel", k.Public())}); err != nil {
				t.Fatal(err)
			}
			if _, opened, err := Open(p, sealKey, nil); err != nil || !opened.Sealed {
				t.Errorf("after provisioning again: %+v, %v", opened, err)
			}
		})
	}
	p := filepath.Join(t.TempDir(), "keyring.json")
	Create(p, []Key{key(t, "ops", k.Public())}, []Key{key(t, "rel", k.Public())})
	if _, _, err := Open(p, nil, nil); err == nil {
		t.Error("a keyring opened without a device key")
	}
	if _, err := os.Stat(p + SealedSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Error("sealed without a key")
	}
}

// TestOpenSealedAnchored: with the keyring's version recorded in TPM NV
// (swtpm), an older sealed keyring put back (it still holds a key retired
// since) and a deleted sealed keyring replaced by a plain one are both
// refused; without the anchor the second would be a first start.
func TestOpenSealedAnchored(t *testing.T) {
	sim := swtpmtest.Start(t, t.TempDir())
	anchor := floor.OpenKeyringFloor(sim.Path)
	old, upd := ecKey(t), ecKey(t)
	g := newRig(t, old.Public(), upd.Public())
	r, opened, err := Open(g.path, sealKey, anchor)
	if err != nil || !opened.Sealed {
		t.Fatalf("first Open: %+v, %v", opened, err)
	}
	if v, ok, err := anchor.Version(); v != 1 || !ok || err != nil {
		t.Fatalf("anchor after sealing: %d %v %v", v, ok, err)
	}
	g.ring = r
	if g.v, err = command.NewVerifier(command.Options{DeviceID: "MA-0001", Keys: r, NonceFile: filepath.Join(t.TempDir(), "nonces.json")}); err != nil {
		t.Fatal(err)
	}
	next := ecKey(t)
	enc, _ := EncodeKey(next.Public())
	if ok, err := g.send(t, "ops-1", old, map[string]string{"keyring.version": "2", "keyring.set": "command", "keyring.add_id": "ops-2", "keyring.add_key": enc}, nil); !ok || err != nil {
		t.Fatalf("add ops-2: %v %v", ok, err)
	}
	withOld, _ := os.ReadFile(g.path + SealedSuffix)
	plainOld, _ := os.ReadFile(g.path)
	// ops-1 is retired (say it leaked), signed by ops-2.
	if ok, err := g.send(t, "ops-2", next, map[string]string{"keyring.version": "3", "keyring.set": "command", "keyring.retire_id": "ops-1"}, nil); !ok || err != nil {
		t.Fatalf("retire ops-1: %v %v", ok, err)
	}
	if v, _, _ := anchor.Version(); v != 3 {
		t.Fatalf("anchor after two changes: %d", v)
	}
	if _, _, err := Open(g.path, sealKey, anchor); err != nil {
		t.Fatalf("reopen: %v", err)
	}
	// The sealed keyring of version 2 (ops-1 still in it) put back.
	os.WriteFile(g.path+SealedSuffix, withOld, 0o600)
	os.WriteFile(g.path, plainOld, 0o644)
	if _, _, err := Open(g.path, sealKey, anchor); !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "older keyring put back") {
		t.Fatalf("older sealed keyring: %v", err)
	}
	// The sealed keyring deleted, a plain one written in its place.
	os.Remove(g.path + SealedSuffix)
	os.Remove(g.path)
	if _, err := Create(g.path, []Key{key(t, "evil", ecKey(t).Public())}, []Key{key(t, "rel", upd.Public())}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(g.path, sealKey, anchor); !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("sealed keyring deleted, plain one written: %v", err)
	}
	if _, err := os.Stat(g.path + SealedSuffix); err == nil {
		t.Error("the plain keyring was sealed")
	}
}
