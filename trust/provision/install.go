package provision

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"medagent/internal/durable"
)

// Refusals.
var (
	ErrUntrusted   = errors.New("provision: certificate does not chain to the manufacturer root")
	ErrExpired     = errors.New("provision: certificate expired")
	ErrNotYetValid = errors.New("provision: certificate not yet valid")
	ErrRevoked     = errors.New("provision: certificate revoked")
	ErrKeyMismatch = errors.New("provision: certificate does not hold the device key")
	ErrUsage       = errors.New("provision: certificate not usable for client authentication")
	ErrPolicy      = errors.New("provision: certificate breaks the issuing policy")
	ErrStaleCRL    = errors.New("provision: CRL past its next update")
)

// Options say what a device certificate chain must satisfy.
type Options struct {
	Root   *x509.Certificate // the manufacturer root; required
	Public crypto.PublicKey  // the device key's public half; required
	CRLs   []*x509.RevocationList
	Now    time.Time // default time.Now()
	Serial string    // expected serial; empty: any that fits the policy
	// CertFile is where Install writes the chain (PEM, 0644).
	CertFile string
}

// ReadRoot reads the manufacturer root: a PEM file with exactly one
// certificate (the same file at provisioning and at EST renewal).
func ReadRoot(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("provision: root: %w", err)
	}
	roots, err := ParseChain(b)
	if err != nil || len(roots) != 1 {
		return nil, fmt.Errorf("provision: root file %s must hold one PEM certificate (%v)", path, err)
	}
	return roots[0], nil
}

// ParseChain parses a PEM chain, leaf first.
func ParseChain(chainPEM []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := chainPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("provision: unexpected PEM block %q in chain", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("provision: parse certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
		if len(certs) > 8 {
			return nil, errors.New("provision: chain longer than 8 certificates")
		}
	}
	if len(certs) == 0 {
		return nil, errors.New("provision: no PEM certificate in chain")
	}
	return certs, nil
}

// Check verifies chainPEM against o and returns the leaf and its
// verified chain (leaf, intermediate, root).
func Check(chainPEM []byte, o Options) ([]*x509.Certificate, error) {
	if o.Root == nil || o.Public == nil {
		return nil, errors.New("provision: root and device public key are required")
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	certs, err := ParseChain(chainPEM)
	if err != nil {
		return nil, err
	}
	leaf := certs[0]
	if now.Before(leaf.NotBefore) {
		return nil, fmt.Errorf("%w: not before %s", ErrNotYetValid, leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.After(leaf.NotAfter) {
		return nil, fmt.Errorf("%w: on %s", ErrExpired, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	pub, ok := o.Public.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(leaf.PublicKey) {
		return nil, ErrKeyMismatch
	}
	if leaf.IsCA || leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 || !hasClientAuth(leaf) {
		return nil, fmt.Errorf("%w: want a non-CA leaf with keyUsage digitalSignature and extKeyUsage clientAuth", ErrUsage)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(o.Root)
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUntrusted, err)
	}
	var chain []*x509.Certificate
	for _, c := range chains {
		if len(c) == 3 {
			chain = c
			break
		}
	}
	if chain == nil {
		return nil, fmt.Errorf("%w: want exactly one factory intermediate between device and root", ErrPolicy)
	}
	if err := checkPolicy(chain, o.Serial); err != nil {
		return nil, err
	}
	if err := checkCRLs(chain, o.CRLs, now); err != nil {
		return nil, err
	}
	return chain, nil
}

func hasClientAuth(c *x509.Certificate) bool {
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageClientAuth {
			return true
		}
	}
	return false
}

func checkPolicy(chain []*x509.Certificate, want string) error {
	leaf, f := chain[0], chain[1]
	if !f.BasicConstraintsValid || f.MaxPathLen != 0 || !f.MaxPathLenZero {
		return fmt.Errorf("%w: factory CA %q lacks path length 0", ErrPolicy, f.Subject.CommonName)
	}
	if len(f.PermittedDNSDomains) == 0 {
		return fmt.Errorf("%w: factory CA %q has no permitted DNS name constraint", ErrPolicy, f.Subject.CommonName)
	}
	s := leaf.Subject.CommonName
	if err := CheckSerial(s); err != nil {
		return err
	}
	if leaf.Subject.SerialNumber != s {
		return fmt.Errorf("%w: subject serialNumber %q differs from CN %q", ErrPolicy, leaf.Subject.SerialNumber, s)
	}
	if want != "" && s != want {
		return fmt.Errorf("%w: certificate is for %q, this device is %q", ErrPolicy, s, want)
	}
	if len(leaf.DNSNames) != 1 || len(leaf.URIs)+len(leaf.IPAddresses)+len(leaf.EmailAddresses) != 0 {
		return fmt.Errorf("%w: want exactly one DNS name and no other SAN", ErrPolicy)
	}
	label, domain, _ := strings.Cut(leaf.DNSNames[0], ".")
	if label != strings.ToLower(s) {
		return fmt.Errorf("%w: DNS name %q does not name serial %q", ErrPolicy, leaf.DNSNames[0], s)
	}
	for _, d := range f.PermittedDNSDomains {
		if strings.EqualFold(domain, strings.TrimPrefix(d, ".")) {
			return nil
		}
	}
	return fmt.Errorf("%w: DNS name %q is not directly under a domain the factory CA permits", ErrPolicy, leaf.DNSNames[0])
}

func checkCRLs(chain []*x509.Certificate, crls []*x509.RevocationList, now time.Time) error {
	leaf, f, root := chain[0], chain[1], chain[2]
	for i, crl := range crls {
		var target *x509.Certificate
		switch {
		case crl.CheckSignatureFrom(root) == nil:
			target = f
		case crl.CheckSignatureFrom(f) == nil:
			target = leaf
		default:
			// Maybe another factory's CRL; only fail if it claims our issuers.
			if string(crl.RawIssuer) == string(root.RawSubject) || string(crl.RawIssuer) == string(f.RawSubject) {
				return fmt.Errorf("%w: CRL %d names our issuer but its signature does not verify", ErrUntrusted, i+1)
			}
			continue
		}
		if !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate) {
			return fmt.Errorf("%w: CRL %d (next update was %s); fetch a fresh one", ErrStaleCRL, i+1, crl.NextUpdate.UTC().Format(time.RFC3339))
		}
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(target.SerialNumber) == 0 {
				return fmt.Errorf("%w: %q (serial %x) by CRL %d", ErrRevoked, target.Subject.CommonName, target.SerialNumber, i+1)
			}
		}
	}
	return nil
}

// Install checks chainPEM like Check and writes it durably to o.CertFile.
func Install(chainPEM []byte, o Options) (*x509.Certificate, error) {
	if o.CertFile == "" {
		return nil, errors.New("provision: no certificate file to install to")
	}
	chain, err := Check(chainPEM, o)
	if err != nil {
		return nil, err
	}
	// Write leaf and intermediate only, canonical PEM, whatever came in.
	var out []byte
	for _, c := range chain[:2] {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	if err := durable.WriteFile(o.CertFile, out, 0o644); err != nil {
		return nil, fmt.Errorf("provision: install: %w", err)
	}
	return chain[0], nil
}
