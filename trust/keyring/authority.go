package keyring

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
)

// UpdateSigArg is the config-command argument that carries the update
// authority's signature of an update-key change (see UpdateStatement).
const UpdateSigArg = "keyring.update_sig"

// updateStatementArgs are the arguments an update-key signature covers, in
// this order.
var updateStatementArgs = []string{"keyring.version", "keyring.set", "keyring.add_id", "keyring.add_key", "keyring.retire_id"}

// UpdateStatement returns the bytes an update-key change is signed over:
// "medagent-keyring-update-v1", a zero byte, then each of keyring.version,
// keyring.set, keyring.add_id, keyring.add_key and keyring.retire_id as a
// 4-byte big-endian length and its bytes (absent arguments are empty).
// The change is bound to the keyring version it produces, so it applies
// once, in order, and cannot be replayed later.
func UpdateStatement(args map[string]string) []byte {
	var b bytes.Buffer
	b.WriteString("medagent-keyring-update-v1")
	b.WriteByte(0)
	for _, k := range updateStatementArgs {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(args[k])))
		b.Write(n[:])
		b.WriteString(args[k])
	}
	return b.Bytes()
}

// SignUpdateChange returns the keyring.update_sig value for args, signed by
// a current update-signing key: RSA (PKCS #1 v1.5) or ECDSA P-256 (ASN.1
// DER), both over SHA-256 of UpdateStatement(args), the schemes of Mender
// artifact signatures. It is the back end's (and tests') side.
func SignUpdateChange(args map[string]string, key crypto.Signer) (string, error) {
	d := sha256.Sum256(UpdateStatement(args))
	var sig []byte
	var err error
	switch key.Public().(type) {
	case *rsa.PublicKey:
		sig, err = key.Sign(rand.Reader, d[:], crypto.SHA256)
	case *ecdsa.PublicKey:
		sig, err = key.Sign(rand.Reader, d[:], crypto.SHA256) // ASN.1 DER
	default:
		return "", fmt.Errorf("keyring: update keys are RSA or ECDSA P-256, not %T", key.Public())
	}
	if err != nil {
		return "", fmt.Errorf("keyring: sign update change: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// errNoAuthority is the refusal of an update-key change that no current
// update key signed.
var errNoAuthority = errors.New("update-signing keys change only with a signature by a current update key (" + UpdateSigArg + "); a command key alone cannot add or retire them")

// verifyUpdateChange checks args' keyring.update_sig against keys.
func verifyUpdateChange(args map[string]string, keys []crypto.PublicKey) error {
	sigText, ok := args[UpdateSigArg]
	if !ok {
		return errNoAuthority
	}
	sig, err := base64.StdEncoding.DecodeString(sigText)
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("%s is not base64: %w", UpdateSigArg, errNoAuthority)
	}
	d := sha256.Sum256(UpdateStatement(args))
	for _, k := range keys {
		switch k := k.(type) {
		case *rsa.PublicKey:
			if rsa.VerifyPKCS1v15(k, crypto.SHA256, d[:], sig) == nil {
				return nil
			}
		case *ecdsa.PublicKey:
			if ecdsa.VerifyASN1(k, d[:], sig) {
				return nil
			}
			if len(sig) == 64 && ecdsa.Verify(k, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
				return nil
			}
		}
	}
	return fmt.Errorf("%s verifies with none of the %d current update keys: %w", UpdateSigArg, len(keys), errNoAuthority)
}
