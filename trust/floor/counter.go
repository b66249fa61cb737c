package floor

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"medagent/trust/internal/tpmio"
)

// CounterIndex is the TPM NV index of the update journal's monotonic
// counter (owner range, beside the floor's).
const CounterIndex = tpm2.TPMHandle(0x01804D47)

// Counter is a TPM NV counter (TPM_NT_COUNTER): it only ever goes up, by
// one per Increment, and rewriting the storage card cannot lower it. The
// update engine binds its journal to it so that an older journal, validly
// authenticated when it was written, is refused when it is put back.
type Counter struct{ path string }

// OpenCounter returns the counter of the TPM named by tpm (as
// Options.TPM: "" means /dev/tpmrm0 when present, "off" never); nil when
// there is no TPM.
func OpenCounter(tpm string) *Counter {
	path := tpmPath(tpm)
	if path == "" {
		return nil
	}
	return &Counter{path: path}
}

// Where says where the counter lives, for messages.
func (c *Counter) Where() string {
	return fmt.Sprintf("TPM NV counter %#x on %s", uint32(CounterIndex), c.path)
}

// Value returns the counter. When the index does not exist yet it is
// defined and incremented once (a new NV counter starts at the highest
// value any counter of the TPM had, known only after its first
// increment), and fresh is true: nothing was bound to it before.
func (c *Counter) Value() (v uint64, fresh bool, err error) {
	t, err := tpmio.Open(c.path)
	if err != nil {
		return 0, false, fmt.Errorf("counter: %w", err)
	}
	defer t.Close()
	pub, err := tpm2.NVReadPublic{NVIndex: CounterIndex}.Execute(t)
	if err != nil && !isRC(err, tpm2.TPMRCHandle) {
		return 0, false, fmt.Errorf("counter: read NV public: %w", err)
	}
	if err != nil {
		def := tpm2.NVDefineSpace{
			AuthHandle: tpm2.TPMRHOwner,
			PublicInfo: tpm2.New2B(tpm2.TPMSNVPublic{
				NVIndex: CounterIndex,
				NameAlg: tpm2.TPMAlgSHA256,
				Attributes: tpm2.TPMANV{
					OwnerWrite: true, OwnerRead: true, AuthRead: true,
					NT: tpm2.TPMNTCounter, NoDA: true,
				},
				DataSize: 8,
			}),
		}
		if _, err := def.Execute(t); err != nil {
			return 0, false, fmt.Errorf("counter: define NV index %#x: %w", uint32(CounterIndex), err)
		}
		fresh = true
		if pub, err = (tpm2.NVReadPublic{NVIndex: CounterIndex}).Execute(t); err != nil {
			return 0, false, fmt.Errorf("counter: read NV public: %w", err)
		}
	}
	written, err := checkCounterIndex(pub)
	if err != nil {
		return 0, false, err
	}
	if !written {
		if _, err := increment(t, pub.NVName); err != nil {
			return 0, false, err
		}
		fresh = true
	}
	v, err = readCounter(t, pub.NVName)
	return v, fresh, err
}

// Read returns the counter without changing the TPM: exists is false
// when the index is not defined yet, or defined but never incremented
// (Value would make it). For reports (update status) that must not write.
func (c *Counter) Read() (v uint64, exists bool, err error) {
	t, err := tpmio.Open(c.path)
	if err != nil {
		return 0, false, fmt.Errorf("counter: %w", err)
	}
	defer t.Close()
	pub, err := tpm2.NVReadPublic{NVIndex: CounterIndex}.Execute(t)
	if isRC(err, tpm2.TPMRCHandle) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("counter: read NV public: %w", err)
	}
	written, err := checkCounterIndex(pub)
	if err != nil || !written {
		return 0, false, err
	}
	v, err = readCounter(t, pub.NVName)
	return v, err == nil, err
}

// checkCounterIndex refuses an NV index that is not the journal counter
// (another size or type, or writable by other than the owner) and says
// whether it was ever incremented.
func checkCounterIndex(pub *tpm2.NVReadPublicResponse) (written bool, err error) {
	contents, err := pub.NVPublic.Contents()
	if err != nil {
		return false, fmt.Errorf("counter: NV public: %w", err)
	}
	a := contents.Attributes
	if contents.DataSize != 8 || a.NT != tpm2.TPMNTCounter || !a.OwnerWrite || a.AuthWrite || a.PolicyWrite {
		return false, fmt.Errorf("counter: NV index %#x exists with other attributes (size %d, type %d): not the journal counter, refusing to trust it", uint32(CounterIndex), contents.DataSize, a.NT)
	}
	return a.Written, nil
}

// Increment adds one to the counter and returns the new value.
func (c *Counter) Increment() (uint64, error) {
	t, err := tpmio.Open(c.path)
	if err != nil {
		return 0, fmt.Errorf("counter: %w", err)
	}
	defer t.Close()
	pub, err := tpm2.NVReadPublic{NVIndex: CounterIndex}.Execute(t)
	if err != nil {
		return 0, fmt.Errorf("counter: read NV public: %w", err)
	}
	return increment(t, pub.NVName)
}

func increment(t transport.TPM, name tpm2.TPM2BName) (uint64, error) {
	_, err := tpm2.NVIncrement{
		AuthHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
		NVIndex:    tpm2.NamedHandle{Handle: CounterIndex, Name: name},
	}.Execute(t)
	if err != nil {
		return 0, fmt.Errorf("counter: NV increment: %w", err)
	}
	return readCounter(t, name)
}

func readCounter(t transport.TPM, name tpm2.TPM2BName) (uint64, error) {
	rsp, err := tpm2.NVRead{
		AuthHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
		NVIndex:    tpm2.NamedHandle{Handle: CounterIndex, Name: name},
		Size:       8,
	}.Execute(t)
	if err != nil {
		return 0, fmt.Errorf("counter: NV read: %w", err)
	}
	if len(rsp.Data.Buffer) != 8 {
		return 0, errors.New("counter: NV read: not 8 bytes")
	}
	return binary.BigEndian.Uint64(rsp.Data.Buffer), nil
}
