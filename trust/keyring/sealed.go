package keyring

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"medagent/internal/authfile"
)

// SealedSuffix names the authenticated copy beside the keyring file.
const SealedSuffix = ".sealed"

const sealedFormat = "medagent-keyring"

// maxSealedSize bounds what Open reads of the sealed copy.
const maxSealedSize = 1 << 20

// ErrTampered: the sealed copy of the keyring fails its check. The
// keyring is then refused (no command is verified) until it is provisioned
// again; it is never replaced by the plain file.
var ErrTampered = errors.New("keyring: the sealed keyring fails its authentication check")

// Anchor keeps the highest keyring version sealed on the device where
// rewriting the storage card cannot lower it (trust/floor.KeyringFloor,
// TPM NV).
type Anchor interface {
	Version() (v uint64, ok bool, err error)
	Raise(v uint64) error // never lowers it
	Where() string
}

// Opened says what Open did besides loading the keyring, for the audit
// trail.
type Opened struct {
	// Sealed: there was no sealed copy; the plain file (as provisioning
	// wrote it) was adopted and sealed now.
	Sealed bool
	// Restored is not empty when the plain file differed from the sealed
	// copy (edited on disk, or a change cut short by a power loss): it says
	// how; the sealed copy stands, the plain file was put aside as
	// path.rejected and written again from the sealed copy.
	Restored string
}

// Open loads the keyring authenticated with key (at least 32 bytes; the
// agent derives it from its TPM-sealed state key). The keyring that
// counts is the sealed copy, path+SealedSuffix: an authfile envelope
// (HMAC-SHA256 with key) that only this user may write. path itself, the
// plain JSON that provisioning writes, is read only while no sealed copy
// exists (first start): it is then checked as Load checks it and sealed.
// After that an edit of path changes nothing (it is detected, put aside
// and rewritten from the sealed copy), and a sealed copy that fails its
// check, or that someone other than this user may write, refuses the
// whole keyring with ErrTampered: fail closed. Recovery from that is
// provisioning again (remove both files, write a new keyring.json).
//
// With an anchor (a TPM) the sealed keyring's version is also recorded
// there and only ever raised: a sealed copy that was deleted, or an older
// one put back (holding a key retired since), is refused with ErrTampered;
// recovery then also clears the anchor (tpm2_nvundefine of its index).
// Not covered without an anchor: someone who can delete the sealed copy
// and write path is back at the first start.
func Open(path string, key []byte, anchor Anchor) (*Ring, Opened, error) {
	var res Opened
	if len(key) < authfile.MinKeySize {
		return nil, res, fmt.Errorf("keyring: %s: no device key to authenticate it (%d bytes): refusing the keyring", path, len(key))
	}
	var floorV uint64
	var have bool
	if anchor != nil {
		var err error
		if floorV, have, err = anchor.Version(); err != nil {
			return nil, res, fmt.Errorf("keyring: the keyring's version floor in %s cannot be read, refusing the keyring: %w", anchor.Where(), err)
		}
	}
	sealed := path + SealedSuffix
	b, err := authfile.Read(sealed, maxSealedSize)
	if errors.Is(err, os.ErrNotExist) {
		if have {
			return nil, res, fmt.Errorf("%w: %s is missing, but %s records keyring version %d sealed on this device; signed commands are refused until the keyring is provisioned again", ErrTampered, sealed, anchor.Where(), floorV)
		}
		r, err := Load(path)
		if err != nil {
			return nil, res, err
		}
		r.key, r.anchor = key, anchor
		if err := r.seal(); err != nil {
			return nil, res, err
		}
		if err := r.raiseAnchor(); err != nil {
			return nil, res, err
		}
		res.Sealed = true
		return r, res, nil
	}
	if err != nil {
		return nil, res, fmt.Errorf("%w: %s: %w; signed commands are refused until the keyring is provisioned again", ErrTampered, sealed, err)
	}
	var f file
	if err := authfile.Unmarshal(key, sealedFormat, format, b, &f); err != nil {
		return nil, res, fmt.Errorf("%w: %s: %w; signed commands are refused until the keyring is provisioned again", ErrTampered, sealed, err)
	}
	if f.Format != format {
		return nil, res, fmt.Errorf("%w: %s has format %d, want %d", ErrTampered, sealed, f.Format, format)
	}
	if have && uint64(f.Version) < floorV {
		return nil, res, fmt.Errorf("%w: %s holds keyring version %d, but %s records version %d sealed on this device (an older keyring put back); signed commands are refused until the keyring is provisioned again", ErrTampered, sealed, f.Version, anchor.Where(), floorV)
	}
	r := &Ring{path: path, key: key, anchor: anchor}
	if err := r.setKeys(f, true); err != nil {
		return nil, res, fmt.Errorf("keyring: %s: %w", sealed, err)
	}
	if !have || uint64(f.Version) > floorV { // first anchor, or a save cut short before it
		if err := r.raiseAnchor(); err != nil {
			return nil, res, err
		}
	}
	if why := r.viewDiffers(); why != "" {
		res.Restored = why
		if err := authfile.Quarantine(path); err != nil {
			return nil, res, fmt.Errorf("keyring: %s %s: %w", path, why, err)
		}
		if err := r.writeView(); err != nil {
			return nil, res, err
		}
	}
	return r, res, nil
}

// viewDiffers says how the plain file differs from the loaded keyring, ""
// when it holds exactly it.
func (r *Ring) viewDiffers() string {
	b, err := os.ReadFile(r.path)
	if errors.Is(err, os.ErrNotExist) {
		return "is missing"
	}
	if err != nil {
		return fmt.Sprintf("cannot be read (%v)", err)
	}
	var f file
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return fmt.Sprintf("is not a keyring (%v)", err)
	}
	got, _ := json.Marshal(f)
	want, _ := json.Marshal(r.f)
	if !bytes.Equal(got, want) {
		return fmt.Sprintf("differs from the sealed keyring (version %d in the file, %d sealed): edited on disk, or a change cut short", f.Version, r.f.Version)
	}
	return ""
}

// seal writes the sealed copy of r.f (authenticated, 0600, durably).
func (r *Ring) seal() error {
	b, err := authfile.Marshal(r.key, sealedFormat, format, r.f)
	if err != nil {
		return fmt.Errorf("keyring: seal: %w", err)
	}
	if err := authfile.Write(r.path+SealedSuffix, b); err != nil {
		return fmt.Errorf("keyring: seal: %w", err)
	}
	return nil
}

// raiseAnchor records the keyring's version in the anchor, if any.
func (r *Ring) raiseAnchor() error {
	if r.anchor == nil || r.f.Version < 1 {
		return nil
	}
	if err := r.anchor.Raise(uint64(r.f.Version)); err != nil {
		return fmt.Errorf("keyring: record version %d in %s: %w", r.f.Version, r.anchor.Where(), err)
	}
	return nil
}
