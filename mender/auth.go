package mender

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// authRequest is the body of the auth request (deviceauth AuthRequest).
type authRequest struct {
	IDData      string `json:"id_data"`
	PubKey      string `json:"pubkey"`
	TenantToken string `json:"tenant_token,omitempty"`
}

// publicKeyPEM is the signer's public key as the server wants it: PKIX
// ("PUBLIC KEY") PEM. Only RSA (2048 bits or more) and ECDSA P-256 are
// accepted, as in the spec's table.
func publicKeyPEM(s crypto.Signer) (string, error) {
	switch k := s.Public().(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return "", fmt.Errorf("mender: device key: RSA %d bits, want at least 2048", k.N.BitLen())
		}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", fmt.Errorf("mender: device key: ECDSA %s, want P-256", k.Curve.Params().Name)
		}
	default:
		return "", fmt.Errorf("mender: device key: %T, want RSA or ECDSA P-256", k)
	}
	der, err := x509.MarshalPKIXPublicKey(s.Public())
	if err != nil {
		return "", fmt.Errorf("mender: device key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// signRequest is the X-MEN-Signature of body: base64 of the signature of
// SHA-256(body), PKCS #1 v1.5 for RSA and ASN.1 SEQ{R, S} for ECDSA (which
// is what crypto.Signer gives for both, also through the TPM).
func signRequest(s crypto.Signer, body []byte) (string, error) {
	sum := sha256.Sum256(body)
	sig, err := s.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("mender: sign auth request: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// identityData is the id_data JSON for the configured identity.
func identityData(o *Options, deviceID string, readFile func(string) ([]byte, error)) (string, error) {
	var key, val string
	switch o.Identity {
	case "device_id":
		key, val = "device_id", deviceID
	case "mac":
		b, err := readFile(filepath.Join("/sys/class/net", filepath.Base(o.IdentityInterface), "address"))
		if err != nil {
			return "", fmt.Errorf("mender: identity mac of %s: %w", o.IdentityInterface, err)
		}
		key, val = "mac", strings.TrimSpace(string(b))
	case "serial":
		b, err := readFile(o.SerialFile)
		if err != nil {
			return "", fmt.Errorf("mender: identity serial: %w", err)
		}
		key, val = "serial", strings.TrimSpace(strings.TrimRight(string(b), "\x00"))
	}
	if val == "" {
		return "", fmt.Errorf("mender: identity %s is empty", key)
	}
	b, err := json.Marshal(map[string]string{key: val})
	if err != nil {
		return "", fmt.Errorf("mender: identity: %w", err)
	}
	return string(b), nil
}

// errBadToken: the auth answer is not a JWT.
var errBadToken = errors.New("mender: auth answer is not a JWT")

// parseToken takes the JWT from the auth answer: a JSON string (as the
// spec says) or the raw token (as the server sends it).
func parseToken(b []byte) (string, error) {
	s := strings.TrimSpace(string(b))
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal([]byte(s), &s); err != nil {
			return "", fmt.Errorf("%w: %v", errBadToken, err)
		}
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 || len(s) > 16<<10 {
		return "", errBadToken
	}
	for _, p := range parts[:2] {
		if _, err := base64.RawURLEncoding.DecodeString(p); err != nil {
			return "", fmt.Errorf("%w: %v", errBadToken, err)
		}
	}
	return s, nil
}
