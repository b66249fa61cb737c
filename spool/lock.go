package spool

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ErrLocked is returned when another process (or another Writer or Reader
// in this process) already holds the role's lock file.
var ErrLocked = errors.New("spool: lock held by another process")

// lockFile takes an exclusive flock on dir/name, without waiting.
func lockFile(dir, name string) (*os.File, error) {
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("spool: lock %s: %w", p, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s (is another medagent %s running?)", ErrLocked, p, name[:len(name)-len(".lock")])
		}
		return nil, fmt.Errorf("spool: lock %s: %w", p, err)
	}
	return f, nil
}

// unlockFile releases the lock; closing the descriptor drops the flock.
func unlockFile(f *os.File) error {
	if f == nil {
		return nil
	}
	return f.Close()
}

// open is what opening a Writer and a Reader share: it applies defaults,
// checks opts, makes Dir and takes the side's lock file.
func open(opts *Options, lockName string) (cipher.AEAD, *os.File, error) {
	return openIn(opts, lockName, false)
}

// openIn is open with the lock file in ReaderDir when reader is set.
func openIn(opts *Options, lockName string, reader bool) (cipher.AEAD, *os.File, error) {
	opts.ensureDefaults()
	if err := opts.validate(); err != nil {
		return nil, nil, err
	}
	aead, err := opts.aead()
	if err != nil {
		return nil, nil, err
	}
	// Group may read (mode 0750/0640): a reader running as another user of
	// the directory's group reads, it never writes.
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("spool: %w", err)
	}
	dir := opts.Dir
	if reader {
		dir = opts.ReaderDir
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, nil, fmt.Errorf("spool: %w", err)
		}
	}
	lock, err := lockFile(dir, lockName)
	if err != nil {
		return nil, nil, err
	}
	return aead, lock, nil
}
