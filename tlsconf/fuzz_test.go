package tlsconf

import (
	"os"
	"testing"

	"medagent/tlsconf/tlstest"
)

// FuzzPEM feeds arbitrary bytes to the certificate and key parsers (files
// on the device are outside input). Seeds: the files of a generated PKI and
// the malformed inputs of TestClientErrors.
func FuzzPEM(f *testing.F) {
	p, err := tlstest.WritePKI(f.TempDir(), "MA-0001")
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range []string{p.CA.CertFile, p.Device.CertFile, p.Device.KeyFile, p.Broker.KeyFile} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("hello\n"))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		certs, err := pemCerts("certificate", "fuzz.pem", b)
		if err == nil && (len(certs) == 0 || certs[0] == nil) {
			t.Fatal("no certificate and no error")
		}
		key, err := parseKey("fuzz.key", b)
		if err == nil && (key == nil || key.Public() == nil) {
			t.Fatal("no key and no error")
		}
	})
}
