package identity

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "device.key")
	k, err := LoadOrCreateKeyFile(p)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	k2, err := LoadOrCreateKeyFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !k.Public().(*ecdsa.PublicKey).Equal(k2.Public()) {
		t.Fatal("second open made a different key")
	}
	d := sha256.Sum256([]byte("hello"))
	sig, err := k2.Sign(rand.Reader, d[:], nil)
	if err != nil || !ecdsa.VerifyASN1(k.Public().(*ecdsa.PublicKey), d[:], sig) {
		t.Fatalf("signature does not verify: %v", err)
	}
	if _, err := CreateKeyFile(p); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("CreateKeyFile over an existing key: %v, want ErrExist", err)
	}
	os.Chmod(p, 0o640)
	if _, err := LoadKeyFile(p); !errors.Is(err, ErrKeyPermissions) {
		t.Fatalf("group-readable key: %v, want ErrKeyPermissions", err)
	}
	os.Chmod(p, 0o604)
	if _, err := Open(Options{KeyFile: p, TPM: "off"}); !errors.Is(err, ErrKeyPermissions) {
		t.Fatalf("world-readable key through Open: %v, want ErrKeyPermissions", err)
	}

	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKCS8PrivateKey(rk)
	rp := filepath.Join(dir, "rsa.key")
	os.WriteFile(rp, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	if _, err := LoadKeyFile(rp); err == nil {
		t.Fatal("RSA key accepted as device key")
	}
	bad := filepath.Join(dir, "junk.key")
	os.WriteFile(bad, []byte("not pem"), 0o600)
	if _, err := LoadKeyFile(bad); err == nil {
		t.Fatal("non-PEM key accepted")
	}
}

func TestOpenWithoutTPMOrKeyFile(t *testing.T) {
	old := statTPM
	statTPM = func(string) (os.FileInfo, error) { return nil, fs.ErrNotExist }
	defer func() { statTPM = old }()
	if _, err := Open(Options{}); err == nil {
		t.Fatal("Open with neither TPM nor key file succeeded")
	}
	id, err := Open(Options{KeyFile: filepath.Join(t.TempDir(), "k")})
	if err != nil || id.Backend != "file" {
		t.Fatalf("Open key file: %v, backend %q", err, id.Backend)
	}
	if _, err := Open(Options{TPM: "unix:" + filepath.Join(t.TempDir(), "none")}); err == nil {
		t.Fatal("configured but unreachable TPM did not fail (must not fall back to a file)")
	}
}
