package artifact

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
)

// MaxSignatureSize bounds manifest.sig (base64 of a 8192-bit RSA signature
// is 1368 bytes).
const MaxSignatureSize = 4096

// LoadPublicKeys reads PEM files holding PKIX ("PUBLIC KEY") RSA or ECDSA
// P-256 public keys; a file may hold several keys. It fails if a file holds
// no key, another PEM type, or an unsupported key.
func LoadPublicKeys(paths ...string) ([]crypto.PublicKey, error) {
	var keys []crypto.PublicKey
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("artifact: load key: %w", err)
		}
		ks, err := ParsePublicKeys(b)
		if err != nil {
			return nil, fmt.Errorf("artifact: load key %s: %w", p, err)
		}
		keys = append(keys, ks...)
	}
	if len(keys) == 0 {
		return nil, errors.New("artifact: load key: no key files given")
	}
	return keys, nil
}

// ParsePublicKeys parses PEM-encoded PKIX public keys (RSA of at least 2048
// bits, ECDSA P-256).
func ParsePublicKeys(pemBytes []byte) ([]crypto.PublicKey, error) {
	var keys []crypto.PublicKey
	rest := pemBytes
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("PEM block %q is not a PKIX public key (want \"PUBLIC KEY\", e.g. from openssl rsa/ec -pubout)", blk.Type)
		}
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse public key: %w", err)
		}
		if err := checkKey(k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM public key found")
	}
	return keys, nil
}

func checkKey(k crypto.PublicKey) error {
	switch k := k.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("RSA key of %d bits is too small (need at least 2048)", k.N.BitLen())
		}
		return nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("ECDSA curve %s is not supported (only P-256)", k.Curve.Params().Name)
		}
		return nil
	default:
		return fmt.Errorf("public key type %T is not supported (RSA or ECDSA P-256 only)", k)
	}
}

// KeyID names a public key in logs and the audit trail: "sha256:" and the
// first 16 hex digits of the SHA-256 of its PKIX (SubjectPublicKeyInfo)
// encoding, as "openssl pkey -pubin -outform DER | sha256sum" shows it.
func KeyID(k crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return "unknown"
	}
	s := sha256.Sum256(der)
	return fmt.Sprintf("sha256:%x", s[:8])
}

// verifyingKey checks the base64 signature sig over msg against every key
// and returns the one that verified it: any key of the set will do (key
// rotation).
func verifyingKey(msg, sig []byte, keys []crypto.PublicKey) (crypto.PublicKey, error) {
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(sig)))
	n, err := base64.StdEncoding.Decode(raw, trimSpace(sig))
	if err != nil {
		return nil, fmt.Errorf("artifact: manifest.sig is not base64: %w", ErrSignature)
	}
	raw = raw[:n]
	digest := sha256.Sum256(msg)
	for _, k := range keys {
		switch k := k.(type) {
		case *rsa.PublicKey:
			if rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], raw) == nil {
				return k, nil
			}
		case *ecdsa.PublicKey:
			// mender-artifact writes raw r||s; other signers write DER.
			if len(raw) == 64 {
				r := new(big.Int).SetBytes(raw[:32])
				s := new(big.Int).SetBytes(raw[32:])
				if ecdsa.Verify(k, digest[:], r, s) {
					return k, nil
				}
			}
			if ecdsa.VerifyASN1(k, digest[:], raw) {
				return k, nil
			}
		}
	}
	return nil, fmt.Errorf("artifact: no trusted key (%d configured) verifies manifest.sig: %w", len(keys), ErrSignature)
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}
