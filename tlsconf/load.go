package tlsconf

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
)

// maxPEM bounds what we read from a PEM file.
const maxPEM = 1 << 20

func readFile(what, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tlsconf: %s: %w", what, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPEM+1))
	if err != nil {
		return nil, fmt.Errorf("tlsconf: %s %s: %w", what, path, err)
	}
	if len(b) > maxPEM {
		return nil, fmt.Errorf("tlsconf: %s %s: larger than %d bytes", what, path, maxPEM)
	}
	return b, nil
}

// pemCerts parses every CERTIFICATE block of b; other blocks are refused.
func pemCerts(what, path string, b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("tlsconf: %s %s: unexpected PEM block %q (want CERTIFICATE)", what, path, blk.Type)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("tlsconf: %s %s: %w", what, path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("tlsconf: %s %s: not PEM (no CERTIFICATE block)", what, path)
	}
	return certs, nil
}

func loadCA(path string) (*x509.CertPool, error) {
	b, err := readFile("CA file", path)
	if err != nil {
		return nil, err
	}
	certs, err := pemCerts("CA file", path, b)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

func loadCerts(path string) ([]*x509.Certificate, error) {
	b, err := readFile("certificate", path)
	if err != nil {
		return nil, err
	}
	return pemCerts("certificate", path, b)
}

func loadKey(path string) (crypto.Signer, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tlsconf: key file: %w", err)
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		return nil, fmt.Errorf("tlsconf: key file %s has mode %04o: %w; fix with: chmod 600 %s", path, m, ErrKeyPermissions, path)
	}
	b, err := readFile("key file", path)
	if err != nil {
		return nil, err
	}
	return parseKey(path, b)
}

// parseKey parses the first PEM block of b as a private key.
func parseKey(path string, b []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("tlsconf: key file %s: not PEM", path)
	}
	var key any
	var err error
	switch blk.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(blk.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	default:
		return nil, fmt.Errorf("tlsconf: key file %s: PEM block %q is not a private key", path, blk.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("tlsconf: key file %s: %w", path, err)
	}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		return k, nil
	case *rsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("tlsconf: key file %s: unsupported key type %T", path, key)
}
