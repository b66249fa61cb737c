package authfile

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"medagent/internal/durable"
)

// MinKeySize is the shortest key accepted.
const MinKeySize = 32

// Refusals; errors wrap exactly one of them.
var (
	ErrAuth  = errors.New("authfile: authentication check failed")
	ErrOwner = errors.New("authfile: file or directory writable by someone other than its owner")
)

type envelope struct {
	Format  string          `json:"format"`
	Version int             `json:"version"`
	MAC     string          `json:"mac"`
	Body    json.RawMessage `json:"body"`
}

// DeriveKey returns the key for one purpose ("update journal") from a
// device key, so that one sealed secret serves several files and a mac for
// one kind of file is never valid for another.
func DeriveKey(deviceKey []byte, purpose string) []byte {
	m := hmac.New(sha256.New, deviceKey)
	m.Write([]byte("medagent authfile key\x00" + purpose))
	return m.Sum(nil)
}

func mac(key []byte, format string, version int, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(format))
	m.Write([]byte{0})
	m.Write([]byte(strconv.Itoa(version)))
	m.Write([]byte{0})
	m.Write(body)
	return m.Sum(nil)
}

func checkKey(key []byte) error {
	if len(key) < MinKeySize {
		return fmt.Errorf("authfile: key of %d bytes, want at least %d", len(key), MinKeySize)
	}
	return nil
}

// Marshal returns the authenticated envelope of body.
func Marshal(key []byte, format string, version int, body any) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("authfile: %s: %w", format, err)
	}
	env := envelope{Format: format, Version: version, MAC: hex.EncodeToString(mac(key, format, version, b)), Body: b}
	out, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("authfile: %s: %w", format, err)
	}
	return append(out, '\n'), nil
}

// Unmarshal checks data's envelope and mac and decodes its body into v
// strictly (no unknown fields). The mac is computed over the body as it
// re-encodes, so whitespace does not matter but every value does.
func Unmarshal(key []byte, format string, version int, data []byte, v any) error {
	if err := checkKey(key); err != nil {
		return err
	}
	var env envelope
	if err := decodeStrict(data, &env); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrAuth, format, err)
	}
	if env.Format != format {
		return fmt.Errorf("%w: format %q, want %q", ErrAuth, env.Format, format)
	}
	if env.Version != version {
		return fmt.Errorf("%w: %s version %d, this agent reads %d", ErrAuth, format, env.Version, version)
	}
	want, err := hex.DecodeString(env.MAC)
	if err != nil {
		return fmt.Errorf("%w: %s: mac is not hex", ErrAuth, format)
	}
	if err := decodeStrict(env.Body, v); err != nil {
		return fmt.Errorf("%w: %s body: %v", ErrAuth, format, err)
	}
	canon, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrAuth, format, err)
	}
	if !hmac.Equal(want, mac(key, format, version, canon)) {
		return fmt.Errorf("%w: %s: mac does not match (edited, or written with another key)", ErrAuth, format)
	}
	return nil
}

func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// Read reads path after checking that only its owner (this process's
// user) can have written it: a regular file (not followed through a
// symlink) owned by the effective uid, not writable by group or others, in
// a directory that only its owner (this user or root) may write. At most
// limit bytes are read. A missing file is os.ErrNotExist.
func Read(path string, limit int64) ([]byte, error) {
	if err := CheckDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("%w: %s is a symbolic link", ErrOwner, path)
		}
		return nil, err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("authfile: stat %s: %w", path, err)
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrOwner, path)
	case int(st.Uid) != os.Geteuid():
		return nil, fmt.Errorf("%w: %s belongs to uid %d, this agent runs as %d", ErrOwner, path, st.Uid, os.Geteuid())
	case st.Mode&0o022 != 0:
		return nil, fmt.Errorf("%w: %s has mode %#o (group or others may write it); run chmod 600 %s", ErrOwner, path, st.Mode&0o777, path)
	case st.Size > limit:
		return nil, fmt.Errorf("%w: %s is %d bytes, limit %d", ErrAuth, path, st.Size, limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("authfile: read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrAuth, path, limit)
	}
	return b, nil
}

// CheckDir refuses a directory that someone other than its owner may
// write, or whose owner is neither this user nor root.
func CheckDir(dir string) error {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return fmt.Errorf("authfile: %w", err)
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return fmt.Errorf("%w: %s is not a directory", ErrOwner, dir)
	case int(st.Uid) != os.Geteuid() && st.Uid != 0:
		return fmt.Errorf("%w: directory %s belongs to uid %d (want %d or root)", ErrOwner, dir, st.Uid, os.Geteuid())
	case st.Mode&0o022 != 0:
		return fmt.Errorf("%w: directory %s has mode %#o (group or others may replace files in it); run chmod 700 %s", ErrOwner, dir, st.Mode&0o777, dir)
	}
	return nil
}

// Write replaces path with data durably (temp file, fsync, rename, fsync
// of the directory), mode 0600, after checking the directory.
func Write(path string, data []byte) error {
	if err := CheckDir(filepath.Dir(path)); err != nil {
		return err
	}
	if err := durable.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("authfile: %w", err)
	}
	return nil
}

// Quarantine renames a file that failed its checks to path+".rejected"
// (replacing an older one), so that it is kept for diagnosis but never
// read again as state.
func Quarantine(path string) error {
	if err := os.Rename(path, path+".rejected"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("authfile: %w", err)
	}
	return nil
}
