package provision

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"regexp"
)

var serialRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

// CheckSerial reports whether s is an acceptable device serial.
func CheckSerial(s string) error {
	if !serialRE.MatchString(s) {
		return fmt.Errorf("%w: serial %q must be 1-64 letters, digits or '-'", ErrPolicy, s)
	}
	return nil
}

// CSR returns a PEM certificate request signed by signer whose subject
// CN and serialNumber are the device serial.
func CSR(signer crypto.Signer, serial string) ([]byte, error) {
	if err := CheckSerial(serial); err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: serial, SerialNumber: serial},
	}, signer)
	if err != nil {
		return nil, fmt.Errorf("provision: create CSR: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}
