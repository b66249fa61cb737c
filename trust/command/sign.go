package command

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
)

// NewNonce returns 16 random bytes.
func NewNonce() []byte {
	n := make([]byte, minNonce)
	if _, err := rand.Read(n); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return n
}

// Sign sets e.KeyID and e.Alg from keyID and signer (an ECDSA P-256 or
// Ed25519 private key, or any crypto.Signer with such a public key) and
// signs the canonical encoding. It is what the back end (and tests) use.
func Sign(e *Envelope, keyID string, signer crypto.Signer) error {
	e.KeyID = keyID
	alg, err := algOf(signer.Public())
	if err != nil {
		return err
	}
	e.Alg = alg
	msg := e.Canonical()
	switch alg {
	case ES256:
		d := sha256.Sum256(msg)
		e.Sig, err = signer.Sign(rand.Reader, d[:], crypto.SHA256)
	default:
		e.Sig, err = signer.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	if err != nil {
		return fmt.Errorf("command: sign: %w", err)
	}
	return nil
}

// Marshal encodes e as JSON.
func (e *Envelope) Marshal() []byte {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err) // only strings, ints and bytes: cannot fail
	}
	return b
}

func algOf(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", fmt.Errorf("command: ECDSA key on %s, want P-256", k.Curve.Params().Name)
		}
		return ES256, nil
	case ed25519.PublicKey:
		return Ed25519, nil
	default:
		return "", fmt.Errorf("command: key type %T not allowed (want ECDSA P-256 or Ed25519)", pub)
	}
}

// CheckKey reports whether pub is a key type this package verifies with.
func CheckKey(pub crypto.PublicKey) error {
	_, err := algOf(pub)
	return err
}

func verifySig(pub crypto.PublicKey, e *Envelope) error {
	alg, err := algOf(pub)
	if err != nil {
		return fmt.Errorf("%w: configured key %q: %v", ErrUnknownKey, e.KeyID, err)
	}
	if alg != e.Alg {
		return fmt.Errorf("%w: alg %q but key %q is %s", ErrBadSignature, e.Alg, e.KeyID, alg)
	}
	msg := e.Canonical()
	ok := false
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		d := sha256.Sum256(msg)
		ok = ecdsa.VerifyASN1(k, d[:], e.Sig)
	case ed25519.PublicKey:
		ok = ed25519.Verify(k, msg, e.Sig)
	}
	if !ok {
		return fmt.Errorf("%w: key %q", ErrBadSignature, e.KeyID)
	}
	return nil
}
