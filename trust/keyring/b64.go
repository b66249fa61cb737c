package keyring

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"fmt"
)

func decodeB64(s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("empty")
	}
	return base64.StdEncoding.DecodeString(s)
}

// EncodeKey returns the keyring.add_key form of pub.
func EncodeKey(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("keyring: %w", err)
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// NewKey returns a Key for pub.
func NewKey(id string, pub crypto.PublicKey) (Key, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return Key{}, fmt.Errorf("keyring: %w", err)
	}
	return Key{ID: id, PublicKey: der}, nil
}
