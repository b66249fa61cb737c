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
// Not covered: without a TPM anchor an attacker who can delete the sealed
// copy and write path is back at first start.
func Open(path string, key []byte) (*Ring, Opened, error) {
	var res Opened
	if len(key) < authfile.MinKeySize {
		return nil, res, fmt.Errorf("keyring: %s: no device key to authenticate it (%d bytes): refusing the keyring", path, len(key))
	}
	sealed := path + SealedSuffix
	b, err := authfile.Read(sealed, maxSealedSize)
	if errors.Is(err, os.ErrNotExist) {
		r, err := Load(path)
		if err != nil {
			return nil, res, err
		}
		r.key = key
		if err := r.seal(); err != nil {
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
	r := &Ring{path: path, key: key}
	if err := r.setKeys(f, true); err != nil {
		return nil, res, fmt.Errorf("keyring: %s: %w", sealed, err)
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
