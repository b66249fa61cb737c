package identity

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrKeyPermissions is wrapped when a key file is readable by group or others.
var ErrKeyPermissions = errors.New("identity: key file readable by group or others")

// LoadKeyFile reads an ECDSA P-256 PKCS#8 PEM key from path.
func LoadKeyFile(path string) (crypto.Signer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("identity: key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %#o; run chmod 600 %s", ErrKeyPermissions, path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("identity: key file: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("identity: key file %s: no PEM \"PRIVATE KEY\" (PKCS#8) block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("identity: key file %s: %w", path, err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("identity: key file %s: want an ECDSA P-256 key, got %T", path, k)
	}
	return ec, nil
}

// CreateKeyFile makes a new P-256 key at path (mode 0600). It fails with
// fs.ErrExist if path exists: a device key is never replaced silently.
func CreateKeyFile(path string) (crypto.Signer, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("identity: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("identity: marshal key: %w", err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".key-*")
	if err != nil {
		return nil, fmt.Errorf("identity: create key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	err = errors.Join(f.Chmod(0o600), pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}), f.Sync(), f.Close())
	if err != nil {
		return nil, fmt.Errorf("identity: write key %s: %w", tmp, err)
	}
	// link fails if path exists, unlike rename.
	if err := os.Link(tmp, path); err != nil {
		return nil, fmt.Errorf("identity: install key %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return nil, fmt.Errorf("identity: fsync %s: %w", dir, err)
		}
	}
	return k, nil
}

// LoadOrCreateKeyFile loads the key at path, creating it if absent.
func LoadOrCreateKeyFile(path string) (crypto.Signer, error) {
	k, err := LoadKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return CreateKeyFile(path)
	}
	return k, err
}
