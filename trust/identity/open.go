package identity

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"os"

	"medagent/trust/internal/tpmio"
)

// Options say where the device key lives.
type Options struct {
	// TPM is the TPM device ("/dev/tpmrm0") or simulator ("unix:PATH",
	// "tcp:HOST:PORT"). Empty: /dev/tpmrm0 if it exists, else no TPM.
	// "off": never use a TPM.
	TPM    string `yaml:"tpm"`
	Handle uint32 `yaml:"tpm_handle"` // default DefaultHandle
	// KeyFile is used when there is no TPM.
	KeyFile string `yaml:"key_file"`
}

// Identity is the opened device key.
type Identity struct {
	crypto.Signer
	Backend string // "tpm" or "file"
	closer  io.Closer
}

// Close releases the TPM connection, if any.
func (id *Identity) Close() error {
	if id.closer == nil {
		return nil
	}
	return id.closer.Close()
}

var statTPM = os.Stat // test seam

// ResolveTPM says which TPM a trust.tpm setting means: "off" none, ""
// /dev/tpmrm0 when it exists (else none), anything else itself.
func ResolveTPM(tpm string) string {
	switch tpm {
	case "off":
		return ""
	case "":
		if _, err := statTPM(tpmio.DefaultPath); err == nil {
			return tpmio.DefaultPath
		}
		return ""
	}
	return tpm
}

// Open opens (creating at first use) the device key: in the TPM when one
// is configured or present, else in KeyFile. A configured TPM that fails
// is an error, never a silent fallback to a file.
func Open(o Options) (*Identity, error) {
	if path := ResolveTPM(o.TPM); path != "" {
		if o.Handle == 0 {
			o.Handle = DefaultHandle
		}
		t, err := tpmio.Open(path)
		if err != nil {
			return nil, fmt.Errorf("identity: %w", err)
		}
		k, err := OpenTPMKey(t, o.Handle)
		if err != nil {
			t.Close()
			return nil, err
		}
		return &Identity{Signer: k, Backend: "tpm", closer: t}, nil
	}
	if o.KeyFile == "" {
		return nil, errors.New("identity: no TPM found and no key file configured")
	}
	k, err := LoadOrCreateKeyFile(o.KeyFile)
	if err != nil {
		return nil, err
	}
	return &Identity{Signer: k, Backend: "file"}, nil
}
