package control

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"
)

// maxPEM bounds a certificate file.
const maxPEM = 1 << 20

// LoadCerts describes the device certificate (the first certificate of
// certFile) and every certificate of caFile at now. Key files are never
// read. Problems are reported in Certs.Error, not returned: status shows
// what it can.
func LoadCerts(certFile, caFile string, now time.Time) Certs {
	var out Certs
	var errs []error
	if certFile != "" {
		cs, err := readCerts(certFile, now)
		if err == nil && len(cs) > 0 {
			out.Device = &cs[0]
		}
		errs = append(errs, err)
	} else {
		errs = append(errs, errors.New("no device certificate configured (mqtt.cert_file)"))
	}
	if caFile != "" {
		cs, err := readCerts(caFile, now)
		out.CA = cs
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		out.Error = err.Error()
	}
	if out.CA == nil {
		out.CA = []Cert{}
	}
	return out
}

func readCerts(path string, now time.Time) ([]Cert, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("control: certificate: %w", err)
	}
	if fi.Size() > maxPEM {
		return nil, fmt.Errorf("control: certificate %s: larger than %d bytes", path, maxPEM)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("control: certificate: %w", err)
	}
	cs, err := ParseCerts(b, now)
	if err != nil {
		return nil, fmt.Errorf("control: certificate %s: %w", path, err)
	}
	for i := range cs {
		cs[i].File = path
	}
	return cs, nil
}

// ParseCerts describes every CERTIFICATE block of a PEM file; other blocks
// (keys included) are skipped unread.
func ParseCerts(b []byte, now time.Time) ([]Cert, error) {
	var out []Cert
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, Cert{
			Subject: c.Subject.String(), Issuer: c.Issuer.String(),
			Serial: strings.ToUpper(c.SerialNumber.Text(16)), NotAfter: c.NotAfter.UTC(),
			DaysLeft: daysLeft(now, c.NotAfter),
		})
	}
	if len(out) == 0 {
		return nil, errors.New("no CERTIFICATE block")
	}
	return out, nil
}

func daysLeft(now, notAfter time.Time) int {
	return int(math.Floor(notAfter.Sub(now).Hours() / 24))
}
