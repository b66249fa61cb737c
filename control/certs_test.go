package control

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"medagent/tlsconf/tlstest"
)

func TestLoadCerts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	p, err := tlstest.WritePKI(dir, "MA-0042")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c := LoadCerts(filepath.Join(dir, tlstest.DeviceCertFile), filepath.Join(dir, tlstest.CAFile), now)
	if c.Error != "" {
		t.Fatalf("LoadCerts: %s", c.Error)
	}
	if c.Device == nil || !strings.Contains(c.Device.Subject, "CN=MA-0042") {
		t.Fatalf("device %+v, want CN=MA-0042", c.Device)
	}
	if len(c.CA) != 1 || c.Device.Issuer != c.CA[0].Subject {
		t.Fatalf("CA %+v does not match the device issuer %q", c.CA, c.Device.Issuer)
	}
	wantDays := int(p.Device.Cert.NotAfter.Sub(now).Hours() / 24)
	if c.Device.DaysLeft != wantDays || c.Device.Serial == "" {
		t.Fatalf("days left %d serial %q, want %d days", c.Device.DaysLeft, c.Device.Serial, wantDays)
	}
	// A key file is not a certificate: refused, and its contents appear nowhere.
	k := LoadCerts(filepath.Join(dir, tlstest.DeviceKeyFile), "", now)
	if k.Device != nil || k.Error == "" || strings.Contains(k.Error, "PRIVATE") {
		t.Fatalf("LoadCerts(key) = %+v, want an error naming no key", k)
	}
	m := LoadCerts(filepath.Join(dir, "missing.pem"), "", now)
	if m.Error == "" || !strings.Contains(m.Error, "missing.pem") {
		t.Fatalf("missing file: %+v", m)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}

func FuzzParseCerts(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "pki")
	if _, err := tlstest.WritePKI(dir, "MA-0042"); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, tlstest.DeviceCertFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := ParseCerts(b, time.Unix(0, 0))
		if err == nil && len(cs) == 0 {
			t.Fatal("no error and no certificate")
		}
	})
}
