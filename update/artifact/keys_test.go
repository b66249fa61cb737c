package artifact

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func pemFile(t *testing.T, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "k.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pkix(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestLoadPublicKeys(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	smallRSA, _ := rsa.GenerateKey(rand.Reader, 1024)
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	ecPriv, _ := x509.MarshalECPrivateKey(ec256)

	for _, tc := range []struct {
		name, path, wantErr string
	}{
		{"rsa pkix", pemFile(t, "PUBLIC KEY", pkix(t, &rsaKey.PublicKey)), ""},
		{"ec p256 pkix", pemFile(t, "PUBLIC KEY", pkix(t, &ec256.PublicKey)), ""},
		{"rsa pkcs1", pemFile(t, "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)), "not a PKIX public key"},
		{"private key", pemFile(t, "EC PRIVATE KEY", ecPriv), "not a PKIX public key"},
		{"p384", pemFile(t, "PUBLIC KEY", pkix(t, &ec384.PublicKey)), "only P-256"},
		{"ed25519", pemFile(t, "PUBLIC KEY", pkix(t, edPub)), "not supported"},
		{"small rsa", pemFile(t, "PUBLIC KEY", pkix(t, &smallRSA.PublicKey)), "too small"},
		{"garbage", pemFile(t, "PUBLIC KEY", []byte("junk")), "parse public key"},
		{"missing file", filepath.Join(t.TempDir(), "nope.pem"), "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := LoadPublicKeys(tc.path)
			if tc.wantErr == "" {
				if err != nil || len(keys) != 1 {
					t.Fatalf("got %d keys, %v", len(keys), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
	empty := filepath.Join(t.TempDir(), "empty.pem")
	os.WriteFile(empty, nil, 0o600)
	if _, err := LoadPublicKeys(empty); err == nil || !strings.Contains(err.Error(), "no PEM public key") {
		t.Errorf("empty file: %v", err)
	}
	if _, err := LoadPublicKeys(); err == nil {
		t.Error("no paths accepted")
	}
}

func TestOptionsKeysChecked(t *testing.T) {
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	_, err := NewReader(strings.NewReader(""), Options{Keys: []crypto.PublicKey{edPub}})
	if err == nil || !strings.Contains(err.Error(), "Options.Keys[0]") {
		t.Fatalf("ed25519 key accepted: %v", err)
	}
}
