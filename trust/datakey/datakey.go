package datakey

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"medagent/internal/durable"
	"medagent/trust/internal/tpmio"
)

// Size is the key length (AES-256).
const Size = 32

// ErrKeyPermissions is wrapped when the key or blob file is writable by
// its group or accessible to others. The file's group may read it (mode
// 0640): with split roles the spool's reader (the uplink user, in the
// spool's group) needs the same key as its writer.
var ErrKeyPermissions = errors.New("datakey: file writable by group or open to others")

// Options say where the key lives.
type Options struct {
	// TPM is the TPM device or simulator (see trust/identity). Empty:
	// /dev/tpmrm0 if it exists, else no TPM. "off": never use a TPM.
	TPM string `yaml:"tpm"`
	// File holds the sealed blob (TPM) or the raw key (no TPM). Required.
	File string `yaml:"file"`
	// Private keeps the key to its owner alone: the file is made 0600 and
	// refused when its group or others may read it (the acquire role's
	// state key, which authenticates the update journal and audit log).
	Private bool `yaml:"-"`
}

var statTPM = os.Stat // test seam

// Load returns the data key, creating it when File does not exist.
func Load(o Options) ([]byte, error) {
	if o.File == "" {
		return nil, errors.New("datakey: no key file configured")
	}
	path := o.TPM
	if path == "off" {
		path = ""
	} else if path == "" {
		if _, err := statTPM(tpmio.DefaultPath); err == nil {
			path = tpmio.DefaultPath
		}
	}
	b, err := readPrivate(o.File, o.Private)
	absent := errors.Is(err, fs.ErrNotExist)
	if err != nil && !absent {
		return nil, err
	}
	if path == "" {
		if absent {
			return create(o.File, o.Private, nil)
		}
		if len(b) != Size {
			return nil, fmt.Errorf("datakey: %s holds %d bytes, want a %d-byte key (is it a TPM-sealed blob? then the TPM is missing)", o.File, len(b), Size)
		}
		return b, nil
	}
	t, err := tpmio.Open(path)
	if err != nil {
		return nil, fmt.Errorf("datakey: %w", err)
	}
	defer t.Close()
	if absent {
		return create(o.File, o.Private, func(key []byte) ([]byte, error) { return seal(t, key) })
	}
	bl, err := decodeBlob(b)
	if err != nil {
		return nil, fmt.Errorf("datakey: %s: %w", o.File, err)
	}
	key, err := unseal(t, bl)
	if err != nil {
		return nil, err
	}
	if len(key) != Size {
		return nil, fmt.Errorf("datakey: unsealed %d bytes, want %d", len(key), Size)
	}
	return key, nil
}

func readPrivate(path string, private bool) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("datakey: %w", err)
	}
	mask, mode := os.FileMode(0o037), "640"
	if private {
		mask, mode = 0o077, "600"
	}
	if st.Mode().Perm()&mask != 0 {
		return nil, fmt.Errorf("%w: %s has mode %#o; run chmod %s %s", ErrKeyPermissions, path, st.Mode().Perm(), mode, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("datakey: %w", err)
	}
	return b, nil
}

// create makes a key and stores it (sealed by wrap, if not nil).
func create(path string, private bool, wrap func([]byte) ([]byte, error)) ([]byte, error) {
	key := make([]byte, Size)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("datakey: random: %w", err)
	}
	out := key
	if wrap != nil {
		var err error
		if out, err = wrap(key); err != nil {
			return nil, err
		}
	}
	perm := os.FileMode(0o640)
	if private {
		perm = 0o600
	}
	if err := durable.WriteFile(path, out, perm); err != nil {
		return nil, fmt.Errorf("datakey: %w", err)
	}
	return key, nil
}
