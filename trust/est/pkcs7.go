package est

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
)

var (
	oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidData       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
)

// ErrPKCS7 is wrapped by ParseCertsOnly's errors.
var ErrPKCS7 = errors.New("est: bad PKCS#7 certs-only message")

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue // [0] EXPLICIT; a RawValue keeps the tag, so Bytes is the content
}

type encapContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      asn1.RawValue
}

// ParseCertsOnly returns the certificates of a degenerate CMS SignedData
// (RFC 5652; EST's certs-only response).
func ParseCertsOnly(der []byte) ([]*x509.Certificate, error) {
	var ci contentInfo
	rest, err := asn1.Unmarshal(der, &ci)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPKCS7, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: trailing data", ErrPKCS7)
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("%w: content type %v, want signedData", ErrPKCS7, ci.ContentType)
	}
	if ci.Content.Class != asn1.ClassContextSpecific || ci.Content.Tag != 0 || !ci.Content.IsCompound {
		return nil, fmt.Errorf("%w: content is not [0] EXPLICIT", ErrPKCS7)
	}
	var sd signedData
	if rest, err = asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, fmt.Errorf("%w: signedData: %v", ErrPKCS7, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: trailing data in signedData", ErrPKCS7)
	}
	if !sd.EncapContentInfo.ContentType.Equal(oidData) {
		return nil, fmt.Errorf("%w: encapsulated content type %v, want data", ErrPKCS7, sd.EncapContentInfo.ContentType)
	}
	c := sd.Certificates
	if c.Class != asn1.ClassContextSpecific || c.Tag != 0 || !c.IsCompound || len(c.Bytes) == 0 {
		return nil, fmt.Errorf("%w: no certificates", ErrPKCS7)
	}
	certs, err := x509.ParseCertificates(c.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: certificates: %v", ErrPKCS7, err)
	}
	if len(certs) > 8 {
		return nil, fmt.Errorf("%w: %d certificates, limit 8", ErrPKCS7, len(certs))
	}
	return certs, nil
}

// MarshalCertsOnly builds a degenerate SignedData holding certs (used by
// esttest; a device never sends one).
func MarshalCertsOnly(certs []*x509.Certificate) ([]byte, error) {
	var raw []byte
	for _, c := range certs {
		raw = append(raw, c.Raw...)
	}
	sd, err := asn1.Marshal(signedData{
		Version:          1,
		DigestAlgorithms: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true},
		EncapContentInfo: encapContentInfo{ContentType: oidData},
		Certificates:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: raw},
		SignerInfos:      asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true},
	})
	if err != nil {
		return nil, fmt.Errorf("est: marshal signedData: %w", err)
	}
	return asn1.Marshal(contentInfo{ContentType: oidSignedData, Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sd}})
}

func pemOf(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
