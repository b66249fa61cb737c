package datakey

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"medagent/trust/internal/durable"
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
	b, err := readPrivate(o.File)
	absent := errors.Is(err, fs.ErrNotExist)
	if err != nil && !absent {
		return nil, err
	}
	if path == "" {
		if absent {
			return create(o.File, nil)
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
		return create(o.File, func(key []byte) ([]byte, error) { return seal(t, key) })
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

func readPrivate(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("datakey: %w", err)
	}
	if st.Mode().Perm()&0o037 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %#o; run chmod 640 %s", ErrKeyPermissions, path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("datakey: %w", err)
	}
	return b, nil
}

// create makes a key and stores it (sealed by wrap, if not nil).
func create(path string, wrap func([]byte) ([]byte, error)) ([]byte, error) {
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
	if err := durable.WriteFile(path, out, 0o640); err != nil {
		return nil, fmt.Errorf("datakey: %w", err)
	}
	return key, nil
}
