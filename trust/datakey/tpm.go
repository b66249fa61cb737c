package datakey

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

const magic = "MDK1"

type blob struct {
	pub  tpm2.TPM2BPublic
	priv tpm2.TPM2BPrivate
}

func (b blob) encode() []byte {
	var out bytes.Buffer
	out.WriteString(magic)
	for _, part := range [][]byte{tpm2.Marshal(b.pub), tpm2.Marshal(b.priv)} {
		binary.Write(&out, binary.BigEndian, uint16(len(part)))
		out.Write(part)
	}
	return out.Bytes()
}

func decodeBlob(b []byte) (blob, error) {
	var bl blob
	if !bytes.HasPrefix(b, []byte(magic)) {
		return bl, errors.New("not a sealed data key (bad magic)")
	}
	b = b[len(magic):]
	var parts [2][]byte
	for i := range parts {
		if len(b) < 2 {
			return bl, errors.New("sealed data key truncated")
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			return bl, errors.New("sealed data key truncated")
		}
		parts[i], b = b[2:2+n], b[2+n:]
	}
	if len(b) != 0 {
		return bl, errors.New("sealed data key has trailing bytes")
	}
	pub, err := tpm2.Unmarshal[tpm2.TPM2BPublic](parts[0])
	if err != nil {
		return bl, fmt.Errorf("sealed data key public area: %w", err)
	}
	priv, err := tpm2.Unmarshal[tpm2.TPM2BPrivate](parts[1])
	if err != nil {
		return bl, fmt.Errorf("sealed data key private area: %w", err)
	}
	bl.pub, bl.priv = *pub, *priv
	return bl, nil
}

func srk(t transport.TPM) (*tpm2.CreatePrimaryResponse, error) {
	r, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHOwner, InPublic: tpm2.New2B(tpm2.ECCSRKTemplate)}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("datakey: create storage primary key: %w", err)
	}
	return r, nil
}

func seal(t transport.TPM, key []byte) ([]byte, error) {
	p, err := srk(t)
	if err != nil {
		return nil, err
	}
	defer tpm2.FlushContext{FlushHandle: p.ObjectHandle}.Execute(t)
	r, err := tpm2.Create{
		ParentHandle: tpm2.AuthHandle{Handle: p.ObjectHandle, Name: p.Name, Auth: tpm2.PasswordAuth(nil)},
		InSensitive: tpm2.TPM2BSensitiveCreate{Sensitive: &tpm2.TPMSSensitiveCreate{
			Data: tpm2.NewTPMUSensitiveCreate(&tpm2.TPM2BSensitiveData{Buffer: key}),
		}},
		InPublic: tpm2.New2B(tpm2.TPMTPublic{
			Type:    tpm2.TPMAlgKeyedHash,
			NameAlg: tpm2.TPMAlgSHA256,
			ObjectAttributes: tpm2.TPMAObject{
				FixedTPM:     true,
				FixedParent:  true,
				UserWithAuth: true,
				NoDA:         true,
			},
		}),
	}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("datakey: seal: %w", err)
	}
	return blob{pub: r.OutPublic, priv: r.OutPrivate}.encode(), nil
}

func unseal(t transport.TPM, bl blob) ([]byte, error) {
	p, err := srk(t)
	if err != nil {
		return nil, err
	}
	defer tpm2.FlushContext{FlushHandle: p.ObjectHandle}.Execute(t)
	l, err := tpm2.Load{
		ParentHandle: tpm2.AuthHandle{Handle: p.ObjectHandle, Name: p.Name, Auth: tpm2.PasswordAuth(nil)},
		InPublic:     bl.pub,
		InPrivate:    bl.priv,
	}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("datakey: load sealed key (made by another TPM?): %w", err)
	}
	defer tpm2.FlushContext{FlushHandle: l.ObjectHandle}.Execute(t)
	u, err := tpm2.Unseal{ItemHandle: tpm2.AuthHandle{Handle: l.ObjectHandle, Name: l.Name, Auth: tpm2.PasswordAuth(nil)}}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("datakey: unseal: %w", err)
	}
	return u.OutData.Buffer, nil
}
