package floor

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"medagent/trust/internal/tpmio"
)

// KeyringIndex is the TPM NV index of the keyring's version floor (owner
// range, beside the version floor and the journal counter).
const KeyringIndex = tpm2.TPMHandle(0x01804D48)

const (
	keyringNVSize = 16 // "MAKR", 4 zero bytes, the version (uint64, big-endian)
	keyringMagic  = "MAKR"
)

// KeyringFloor keeps the highest keyring version sealed on this device in
// TPM NV (trust/keyring's Anchor): a sealed keyring that was deleted, or an
// older one put back (with a key retired since), is refused, and rewriting
// the storage card cannot change that.
type KeyringFloor struct{ path string }

// OpenKeyringFloor returns the keyring floor of the TPM named by tpm (as
// Options.TPM: "" means /dev/tpmrm0 when present, "off" never); nil when
// there is no TPM.
func OpenKeyringFloor(tpm string) *KeyringFloor {
	path := tpmPath(tpm)
	if path == "" {
		return nil
	}
	return &KeyringFloor{path: path}
}

// Where says where the floor lives, for messages.
func (k *KeyringFloor) Where() string {
	return fmt.Sprintf("TPM NV index %#x on %s", uint32(KeyringIndex), k.path)
}

// Version returns the keyring version recorded; ok is false when none
// ever was.
func (k *KeyringFloor) Version() (v uint64, ok bool, err error) {
	t, err := tpmio.Open(k.path)
	if err != nil {
		return 0, false, fmt.Errorf("keyring floor: %w", err)
	}
	defer t.Close()
	v, ok, _, err = readKeyringNV(t)
	return v, ok, err
}

func readKeyringNV(t transport.TPM) (v uint64, ok bool, pub *tpm2.NVReadPublicResponse, err error) {
	pub, err = tpm2.NVReadPublic{NVIndex: KeyringIndex}.Execute(t)
	if err != nil {
		if isRC(err, tpm2.TPMRCHandle) {
			return 0, false, nil, nil
		}
		return 0, false, nil, fmt.Errorf("keyring floor: read NV public: %w", err)
	}
	contents, err := pub.NVPublic.Contents()
	if err != nil {
		return 0, false, nil, fmt.Errorf("keyring floor: NV public: %w", err)
	}
	a := contents.Attributes
	if contents.DataSize != keyringNVSize || a.NT != tpm2.TPMNTOrdinary || !a.OwnerWrite || a.AuthWrite || a.PolicyWrite {
		return 0, false, nil, fmt.Errorf("keyring floor: NV index %#x exists with other attributes (size %d): not the keyring floor, refusing to trust it", uint32(KeyringIndex), contents.DataSize)
	}
	if !a.Written {
		return 0, false, pub, nil
	}
	rsp, err := tpm2.NVRead{
		AuthHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
		NVIndex:    tpm2.NamedHandle{Handle: KeyringIndex, Name: pub.NVName},
		Size:       keyringNVSize,
	}.Execute(t)
	if err != nil {
		return 0, false, nil, fmt.Errorf("keyring floor: NV read: %w", err)
	}
	b := rsp.Data.Buffer
	if len(b) != keyringNVSize || !bytes.HasPrefix(b, []byte(keyringMagic)) {
		return 0, false, nil, fmt.Errorf("keyring floor: NV index %#x does not hold a keyring version", uint32(KeyringIndex))
	}
	return binary.BigEndian.Uint64(b[8:]), true, pub, nil
}

// Raise records v when it is higher than what is recorded; it never
// lowers it.
func (k *KeyringFloor) Raise(v uint64) error {
	t, err := tpmio.Open(k.path)
	if err != nil {
		return fmt.Errorf("keyring floor: %w", err)
	}
	defer t.Close()
	cur, ok, pub, err := readKeyringNV(t)
	if err != nil {
		return err
	}
	if ok && v <= cur {
		return nil
	}
	if pub == nil {
		def := tpm2.NVDefineSpace{
			AuthHandle: tpm2.TPMRHOwner,
			PublicInfo: tpm2.New2B(tpm2.TPMSNVPublic{
				NVIndex: KeyringIndex,
				NameAlg: tpm2.TPMAlgSHA256,
				Attributes: tpm2.TPMANV{
					OwnerWrite: true, OwnerRead: true, AuthRead: true,
					NT: tpm2.TPMNTOrdinary, NoDA: true,
				},
				DataSize: keyringNVSize,
			}),
		}
		if _, err := def.Execute(t); err != nil {
			return fmt.Errorf("keyring floor: define NV index %#x: %w", uint32(KeyringIndex), err)
		}
		if pub, err = (tpm2.NVReadPublic{NVIndex: KeyringIndex}).Execute(t); err != nil {
			return fmt.Errorf("keyring floor: read NV public: %w", err)
		}
	}
	data := make([]byte, keyringNVSize)
	copy(data, keyringMagic)
	binary.BigEndian.PutUint64(data[8:], v)
	_, err = tpm2.NVWrite{
		AuthHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
		NVIndex:    tpm2.NamedHandle{Handle: KeyringIndex, Name: pub.NVName},
		Data:       tpm2.TPM2BMaxNVBuffer{Buffer: data},
	}.Execute(t)
	if err != nil {
		return fmt.Errorf("keyring floor: NV write: %w", err)
	}
	return nil
}
