package floor

import (
	"errors"
	"fmt"
	"os"

	"medagent/internal/authfile"
	"medagent/trust/internal/tpmio"
)

// Store keeps the floor.
type Store interface {
	// Floor returns the floor; ok is false when none was ever set. An
	// error means the floor cannot be trusted (installs must stop).
	Floor() (v Version, ok bool, err error)
	// Raise sets the floor to v when v is higher; it never lowers it.
	Raise(v Version) error
	// Where says where the floor lives, for messages.
	Where() string
}

// Options say where the floor lives.
type Options struct {
	// TPM is the TPM device or simulator (as trust.tpm): "" means
	// /dev/tpmrm0 when present, "off" never.
	TPM string
	// File and Key are the authenticated file used without a TPM.
	File string
	Key  []byte
}

var statTPM = os.Stat // test seam

// Open returns the TPM NV store when there is a TPM, else the file store.
func Open(o Options) (Store, error) {
	path := tpmPath(o.TPM)
	if path != "" {
		return &nvStore{path: path}, nil
	}
	if o.File == "" {
		return nil, errors.New("floor: no file configured (and no TPM)")
	}
	if len(o.Key) < authfile.MinKeySize {
		return nil, errors.New("floor: the floor file needs a key")
	}
	return &fileStore{path: o.File, key: o.Key}, nil
}

const fileFormat = "medagent-version-floor"

type fileBody struct {
	Floor string `json:"floor"`
}

type fileStore struct {
	path string
	key  []byte
}

func (s *fileStore) Where() string { return "file " + s.path }

func (s *fileStore) Floor() (Version, bool, error) {
	b, err := authfile.Read(s.path, 4096)
	if errors.Is(err, os.ErrNotExist) {
		return Version{}, false, nil
	}
	if err != nil {
		return Version{}, false, fmt.Errorf("floor: %s cannot be trusted: %w", s.path, err)
	}
	var body fileBody
	if err := authfile.Unmarshal(s.key, fileFormat, 1, b, &body); err != nil {
		return Version{}, false, fmt.Errorf("floor: %s cannot be trusted: %w", s.path, err)
	}
	v, err := Parse(body.Floor)
	if err != nil {
		return Version{}, false, fmt.Errorf("floor: %s: %w", s.path, err)
	}
	return v, true, nil
}

func (s *fileStore) Raise(v Version) error {
	cur, ok, err := s.Floor()
	if err != nil && !errors.Is(err, authfile.ErrAuth) {
		return err
	}
	if err == nil && ok && v.Compare(cur) <= 0 {
		return nil
	}
	b, err := authfile.Marshal(s.key, fileFormat, 1, fileBody{Floor: v.String()})
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	if err := authfile.Write(s.path, b); err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	return nil
}

// tpmPath is the TPM device that tpm names (as Options.TPM): "off" none,
// "" /dev/tpmrm0 when present, else tpm itself.
func tpmPath(tpm string) string {
	switch {
	case tpm == "off":
		return ""
	case tpm != "":
		return tpm
	}
	if _, err := statTPM(tpmio.DefaultPath); err == nil {
		return tpmio.DefaultPath
	}
	return ""
}
