package tlstest

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

func TestWritePKI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	p, err := WritePKI(dir, "MA-0001")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(p.CA.Cert)
	for _, c := range []struct {
		cert, key string
		cn        string
		usage     x509.ExtKeyUsage
	}{
		{BrokerCertFile, BrokerKeyFile, "localhost", x509.ExtKeyUsageServerAuth},
		{DeviceCertFile, DeviceKeyFile, "MA-0001", x509.ExtKeyUsageClientAuth},
		{MonitorCertFile, MonitorKeyFile, MonitorName, x509.ExtKeyUsageClientAuth},
	} {
		b, err := os.ReadFile(filepath.Join(dir, c.cert))
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			t.Fatalf("%s: not PEM", c.cert)
		}
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if cert.Subject.CommonName != c.cn {
			t.Errorf("%s: CN %q, want %q", c.cert, cert.Subject.CommonName, c.cn)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{c.usage}}); err != nil {
			t.Errorf("%s: %v", c.cert, err)
		}
		fi, err := os.Stat(filepath.Join(dir, c.key))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", c.key, fi.Mode())
		}
	}
	if err := p.Broker.Cert.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("broker cert: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, CAFile)); err != nil {
		t.Error(err)
	}
}
