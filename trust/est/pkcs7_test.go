package est

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"medagent/trust/provision/pkitest"
)

func testCerts(t testing.TB) []*x509.Certificate {
	t.Helper()
	root, err := pkitest.NewRoot("r")
	if err != nil {
		t.Fatal(err)
	}
	f, err := root.Factory("f", pkitest.FactoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf, err := f.Device(k.Public(), "MA-0001", pkitest.DeviceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return []*x509.Certificate{leaf, f.Cert}
}

func TestCertsOnlyRoundTrip(t *testing.T) {
	certs := testCerts(t)
	der, err := MarshalCertsOnly(certs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCertsOnly(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Equal(certs[0]) || !got[1].Equal(certs[1]) {
		t.Fatalf("got %d certs, not the ones put in", len(got))
	}
	for _, bad := range [][]byte{nil, der[:len(der)-1], append(append([]byte{}, der...), 0), {0x30, 0x03, 0x06, 0x01, 0x00}} {
		if _, err := ParseCertsOnly(bad); !errors.Is(err, ErrPKCS7) {
			t.Errorf("ParseCertsOnly(% x...) = %v, want ErrPKCS7", bad[:min(len(bad), 8)], err)
		}
	}
	empty, _ := MarshalCertsOnly(nil)
	if _, err := ParseCertsOnly(empty); !errors.Is(err, ErrPKCS7) {
		t.Errorf("no certificates: %v", err)
	}
}

// TestParsesOpenSSLCertsOnly reads a certs-only message made by OpenSSL
// (crl2pkcs7 -nocrl), an independent encoder.
func TestParsesOpenSSLCertsOnly(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl not found: install Debian package openssl (scripts/setup.sh)")
	}
	certs := testCerts(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "certs.pem")
	os.WriteFile(in, pkitest.PEM(certs...), 0o644)
	out := filepath.Join(dir, "p7.der")
	if b, err := exec.Command(bin, "crl2pkcs7", "-nocrl", "-certfile", in, "-outform", "DER", "-out", out).CombinedOutput(); err != nil {
		t.Fatalf("openssl crl2pkcs7: %v\n%s", err, b)
	}
	der, _ := os.ReadFile(out)
	got, err := ParseCertsOnly(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Equal(certs[0]) || !got[1].Equal(certs[1]) {
		t.Fatalf("got %d certs from openssl's message", len(got))
	}
	// And OpenSSL reads ours.
	ours, _ := MarshalCertsOnly(certs)
	os.WriteFile(out, ours, 0o644)
	b, err := exec.Command(bin, "pkcs7", "-inform", "DER", "-in", out, "-print_certs", "-noout").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl cannot read our certs-only message: %v\n%s", err, b)
	}
}

func FuzzParseCertsOnly(f *testing.F) {
	der, err := MarshalCertsOnly(testCerts(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(der)
	f.Add(der[:40])
	f.Add([]byte{0x30, 0x03, 0x06, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		certs, err := ParseCertsOnly(b)
		if err != nil {
			if !errors.Is(err, ErrPKCS7) {
				t.Fatalf("error %v does not wrap ErrPKCS7", err)
			}
			return
		}
		if len(certs) == 0 || len(certs) > 8 {
			t.Fatalf("%d certificates accepted", len(certs))
		}
	})
}
