// Package pkitest scripts the manufacturer PKI for tests and demos: a
// manufacturer root, factory intermediates constrained by path length 0
// and a permitted DNS domain, device certificates in the shape
// trust/provision accepts, and CRLs. Keys live in memory only.
package pkitest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// DeviceDomain is the DNS domain under which device names are issued.
const DeviceDomain = "devices.medagent.test"

// CA is a certificate authority with its key in memory.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

func newKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err)
	}
	return n
}

func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, fmt.Errorf("pkitest: create %s: %w", tmpl.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

// NewRoot makes a self-signed manufacturer root valid for 20 years.
func NewRoot(cn string) (*CA, error) {
	k := newKey()
	now := time.Now()
	t := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: cn, Organization: []string{"medagent test manufacturer"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(20 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true, MaxPathLen: 1,
	}
	c, err := sign(t, t, k.Public(), k)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: c, Key: k}, nil
}

// FactoryOptions shape a factory intermediate.
type FactoryOptions struct {
	Domain      string // permitted DNS domain; default DeviceDomain
	NoPathLen   bool   // omit the path length constraint (to test refusal)
	Unconstrain bool   // omit the name constraints (to test refusal)
}

// Factory issues an intermediate CA for a factory or subcontractor.
func (ca *CA) Factory(cn string, o FactoryOptions) (*CA, error) {
	if o.Domain == "" {
		o.Domain = DeviceDomain
	}
	k := newKey()
	now := time.Now()
	t := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: cn, Organization: []string{"medagent test factory"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true,
		MaxPathLen: 0, MaxPathLenZero: !o.NoPathLen,
	}
	if o.NoPathLen {
		t.MaxPathLen = -1
	}
	if !o.Unconstrain {
		t.PermittedDNSDomainsCritical = true
		t.PermittedDNSDomains = []string{o.Domain}
	}
	c, err := sign(t, ca.Cert, k.Public(), ca.Key)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: c, Key: k}, nil
}

// DeviceOptions shape a device certificate; zero values give a valid one.
type DeviceOptions struct {
	NotBefore, NotAfter time.Time
	ExtKeyUsage         []x509.ExtKeyUsage // default clientAuth
	DNSName             string             // default <lower(serial)>.<DeviceDomain>
	CommonName          string             // default serial
}

// DNSName is the name a device certificate carries for serial.
func DNSName(serial string) string { return strings.ToLower(serial) + "." + DeviceDomain }

// Device issues a device certificate for pub and serial.
func (ca *CA) Device(pub crypto.PublicKey, serialNo string, o DeviceOptions) (*x509.Certificate, error) {
	now := time.Now()
	if o.NotBefore.IsZero() {
		o.NotBefore = now.Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = now.Add(365 * 24 * time.Hour)
	}
	if o.ExtKeyUsage == nil {
		o.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	if o.DNSName == "" {
		o.DNSName = DNSName(serialNo)
	}
	if o.CommonName == "" {
		o.CommonName = serialNo
	}
	t := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: o.CommonName, SerialNumber: serialNo},
		DNSNames:     []string{o.DNSName},
		NotBefore:    o.NotBefore, NotAfter: o.NotAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: o.ExtKeyUsage,
	}
	return sign(t, ca.Cert, pub, ca.Key)
}

// FromCSR issues a device certificate from a PEM CSR, checking its signature.
func (ca *CA) FromCSR(csrPEM []byte, o DeviceOptions) (*x509.Certificate, error) {
	b, _ := pem.Decode(csrPEM)
	if b == nil || b.Type != "CERTIFICATE REQUEST" {
		return nil, fmt.Errorf("pkitest: not a PEM CSR")
	}
	r, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pkitest: %w", err)
	}
	if err := r.CheckSignature(); err != nil {
		return nil, fmt.Errorf("pkitest: CSR signature: %w", err)
	}
	return ca.Device(r.PublicKey, r.Subject.SerialNumber, o)
}

// CRL returns a DER CRL signed by ca revoking certs, valid for a day.
func (ca *CA) CRL(certs ...*x509.Certificate) ([]byte, error) {
	now := time.Now()
	var entries []x509.RevocationListEntry
	for _, c := range certs {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: now.Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: serial(), ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(24 * time.Hour),
		RevokedCertificateEntries: entries,
	}, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("pkitest: CRL: %w", err)
	}
	return der, nil
}

// PEM encodes certificates as a PEM chain.
func PEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}
