package identity

import (
	"crypto"
	"crypto/ecdsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// DefaultHandle is the persistent handle of the device key.
const DefaultHandle uint32 = 0x81000110

// TPMKey is a P-256 key held in a TPM. It is safe for concurrent use.
type TPMKey struct {
	mu     sync.Mutex
	tpm    transport.TPM
	handle tpm2.TPMHandle
	name   tpm2.TPM2BName
	pub    *ecdsa.PublicKey
}

var keyTemplate = tpm2.TPMTPublic{
	Type:    tpm2.TPMAlgECC,
	NameAlg: tpm2.TPMAlgSHA256,
	ObjectAttributes: tpm2.TPMAObject{
		FixedTPM:            true,
		FixedParent:         true,
		SensitiveDataOrigin: true, // the TPM makes the key: it never exists outside
		UserWithAuth:        true,
		SignEncrypt:         true,
		NoDA:                true,
	},
	Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &tpm2.TPMSECCParms{
		// Scheme NULL: the caller's hash is chosen per signature.
		Scheme:  tpm2.TPMTECCScheme{Scheme: tpm2.TPMAlgNull},
		CurveID: tpm2.TPMECCNistP256,
	}),
	Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &tpm2.TPMSECCPoint{
		X: tpm2.TPM2BECCParameter{Buffer: make([]byte, 32)},
		Y: tpm2.TPM2BECCParameter{Buffer: make([]byte, 32)},
	}),
}

// OpenTPMKey returns the key at the persistent handle, creating and
// persisting it if the handle is empty.
func OpenTPMKey(t transport.TPM, handle uint32) (*TPMKey, error) {
	h := tpm2.TPMHandle(handle)
	rp, err := tpm2.ReadPublic{ObjectHandle: h}.Execute(t)
	if errors.Is(err, tpm2.TPMRCHandle) {
		if err := createPersistent(t, h); err != nil {
			return nil, err
		}
		rp, err = tpm2.ReadPublic{ObjectHandle: h}.Execute(t)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: read TPM key %#x: %w", handle, err)
	}
	pub, err := rp.OutPublic.Contents()
	if err != nil {
		return nil, fmt.Errorf("identity: TPM key %#x public area: %w", handle, err)
	}
	ec, err := checkPublic(pub)
	if err != nil {
		return nil, fmt.Errorf("identity: object at TPM handle %#x is not the device key (%v); refusing to use or replace it", handle, err)
	}
	return &TPMKey{tpm: t, handle: h, name: rp.Name, pub: ec}, nil
}

func checkPublic(p *tpm2.TPMTPublic) (*ecdsa.PublicKey, error) {
	a := p.ObjectAttributes
	if p.Type != tpm2.TPMAlgECC || !a.SignEncrypt || a.Restricted || a.Decrypt || !a.FixedTPM || !a.SensitiveDataOrigin {
		return nil, errors.New("want a TPM-generated, non-duplicable, unrestricted ECC signing key")
	}
	parms, err := p.Parameters.ECCDetail()
	if err != nil {
		return nil, err
	}
	if parms.CurveID != tpm2.TPMECCNistP256 {
		return nil, fmt.Errorf("curve %v, want NIST P-256", parms.CurveID)
	}
	point, err := p.Unique.ECC()
	if err != nil {
		return nil, err
	}
	return tpm2.ECDSAPub(parms, point)
}

func createPersistent(t transport.TPM, h tpm2.TPMHandle) error {
	cp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.TPMRHOwner,
		InPublic:      tpm2.New2B(keyTemplate),
	}.Execute(t)
	if err != nil {
		return fmt.Errorf("identity: create TPM key: %w", err)
	}
	defer tpm2.FlushContext{FlushHandle: cp.ObjectHandle}.Execute(t)
	_, err = tpm2.EvictControl{
		Auth:             tpm2.TPMRHOwner,
		ObjectHandle:     &tpm2.NamedHandle{Handle: cp.ObjectHandle, Name: cp.Name},
		PersistentHandle: h,
	}.Execute(t)
	if err != nil {
		return fmt.Errorf("identity: persist TPM key at %#x: %w", uint32(h), err)
	}
	return nil
}

// Public returns the key's public half (*ecdsa.PublicKey).
func (k *TPMKey) Public() crypto.PublicKey { return k.pub }

// Sign signs digest (made with opts.HashFunc(): SHA-256, -384 or -512)
// with TPM2_Sign and returns an ASN.1 DER ECDSA signature.
func (k *TPMKey) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	var alg tpm2.TPMAlgID
	switch opts.HashFunc() {
	case crypto.SHA256:
		alg = tpm2.TPMAlgSHA256
	case crypto.SHA384:
		alg = tpm2.TPMAlgSHA384
	case crypto.SHA512:
		alg = tpm2.TPMAlgSHA512
	default:
		return nil, fmt.Errorf("identity: TPM sign: hash %v not supported", opts.HashFunc())
	}
	if len(digest) != opts.HashFunc().Size() {
		return nil, fmt.Errorf("identity: TPM sign: digest of %d bytes for %v", len(digest), opts.HashFunc())
	}
	k.mu.Lock()
	rsp, err := tpm2.Sign{
		KeyHandle: tpm2.AuthHandle{Handle: k.handle, Name: k.name, Auth: tpm2.PasswordAuth(nil)},
		Digest:    tpm2.TPM2BDigest{Buffer: digest},
		InScheme: tpm2.TPMTSigScheme{
			Scheme:  tpm2.TPMAlgECDSA,
			Details: tpm2.NewTPMUSigScheme(tpm2.TPMAlgECDSA, &tpm2.TPMSSchemeHash{HashAlg: alg}),
		},
		Validation: tpm2.TPMTTKHashCheck{Tag: tpm2.TPMSTHashCheck, Hierarchy: tpm2.TPMRHNull},
	}.Execute(k.tpm)
	k.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("identity: TPM sign: %w", err)
	}
	sig, err := rsp.Signature.Signature.ECDSA()
	if err != nil {
		return nil, fmt.Errorf("identity: TPM sign: %w", err)
	}
	return asn1.Marshal(struct{ R, S *big.Int }{
		new(big.Int).SetBytes(sig.SignatureR.Buffer),
		new(big.Int).SetBytes(sig.SignatureS.Buffer),
	})
}

var _ crypto.Signer = (*TPMKey)(nil)
