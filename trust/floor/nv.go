package floor

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"medagent/trust/internal/tpmio"
)

// NVIndex is the TPM NV index of the floor (owner range).
const NVIndex = tpm2.TPMHandle(0x01804D46)

const (
	nvSize  = 64
	nvMagic = "MAFL"
)

type nvStore struct{ path string }

func (s *nvStore) Where() string {
	return fmt.Sprintf("TPM NV index %#x on %s", uint32(NVIndex), s.path)
}

func (s *nvStore) open() (transport.TPMCloser, error) {
	t, err := tpmio.Open(s.path)
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	return t, nil
}

// read returns the stored version; ok is false when the index does not
// exist or was never written.
func read(t transport.TPM) (Version, bool, error) {
	pub, err := tpm2.NVReadPublic{NVIndex: NVIndex}.Execute(t)
	if err != nil {
		if isRC(err, tpm2.TPMRCHandle) {
			return Version{}, false, nil
		}
		return Version{}, false, fmt.Errorf("floor: read NV public: %w", err)
	}
	contents, err := pub.NVPublic.Contents()
	if err != nil {
		return Version{}, false, fmt.Errorf("floor: NV public: %w", err)
	}
	if contents.DataSize != nvSize || !contents.Attributes.OwnerWrite || contents.Attributes.AuthWrite || contents.Attributes.PolicyWrite {
		return Version{}, false, fmt.Errorf("floor: NV index %#x exists with other attributes (size %d): not the floor, refusing to trust it", uint32(NVIndex), contents.DataSize)
	}
	if !contents.Attributes.Written {
		return Version{}, false, nil
	}
	rsp, err := tpm2.NVRead{
		AuthHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
		NVIndex:    tpm2.NamedHandle{Handle: NVIndex, Name: pub.NVName},
		Size:       nvSize,
	}.Execute(t)
	if err != nil {
		return Version{}, false, fmt.Errorf("floor: NV read: %w", err)
	}
	b := rsp.Data.Buffer
	if len(b) != nvSize || !bytes.HasPrefix(b, []byte(nvMagic)) || int(b[4]) > nvSize-5 {
		return Version{}, false, fmt.Errorf("floor: NV index %#x does not hold a floor", uint32(NVIndex))
	}
	v, err := Parse(string(b[5 : 5+int(b[4])]))
	if err != nil {
		return Version{}, false, fmt.Errorf("floor: NV: %w", err)
	}
	return v, true, nil
}

func isRC(err error, rc tpm2.TPMRC) bool { return errors.Is(err, rc) }

func (s *nvStore) Floor() (Version, bool, error) {
	t, err := s.open()
	if err != nil {
		return Version{}, false, err
	}
	defer t.Close()
	return read(t)
}

func (s *nvStore) Raise(v Version) error {
	t, err := s.open()
	if err != nil {
		return err
	}
	defer t.Close()
	cur, ok, err := read(t)
	if err != nil {
		return err
	}
	if ok && v.Compare(cur) <= 0 {
		return nil
	}
	pub, err := tpm2.NVReadPublic{NVIndex: NVIndex}.Execute(t)
	if err != nil {
		def := tpm2.NVDefineSpace{
			AuthHandle: tpm2.TPMRHOwner,
			PublicInfo: tpm2.New2B(tpm2.TPMSNVPublic{
				NVIndex: NVIndex,
				NameAlg: tpm2.TPMAlgSHA256,
				Attributes: tpm2.TPMANV{
					OwnerWrite: true, OwnerRead: true, AuthRead: true,
					NT: tpm2.TPMNTOrdinary, NoDA: true,
				},
				DataSize: nvSize,
			}),
		}
		if _, err := def.Execute(t); err != nil {
			return fmt.Errorf("floor: define NV index %#x: %w", uint32(NVIndex), err)
		}
		if pub, err = (tpm2.NVReadPublic{NVIndex: NVIndex}).Execute(t); err != nil {
			return fmt.Errorf("floor: read NV public: %w", err)
		}
	}
	data := make([]byte, nvSize)
	copy(data, nvMagic)
	text := v.String()
	data[4] = byte(len(text))
	copy(data[5:], text)
	_, err = tpm2.NVWrite{
		AuthHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
		NVIndex:    tpm2.NamedHandle{Handle: NVIndex, Name: pub.NVName},
		Data:       tpm2.TPM2BMaxNVBuffer{Buffer: data},
	}.Execute(t)
	if err != nil {
		return fmt.Errorf("floor: NV write: %w", err)
	}
	return nil
}
