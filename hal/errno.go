package hal

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"medagent/hal/buserr"
)

// errnoSentinel maps the errno values the agent acts on.
func errnoSentinel(e syscall.Errno) error {
	switch e {
	case syscall.ENOENT, syscall.ENODEV:
		return buserr.ErrNotFound
	case syscall.EACCES, syscall.EPERM:
		return buserr.ErrPermission
	case syscall.EBUSY:
		return buserr.ErrBusy
	case syscall.ENXIO, syscall.EREMOTEIO:
		return buserr.ErrNACK
	case syscall.ETIMEDOUT:
		return buserr.ErrTimeout
	case syscall.EIO, syscall.EPIPE:
		return buserr.ErrDisconnected
	}
	return nil
}

// classify wraps err with "hal: <what> <path>:" and, where the errno (or,
// for libraries that flatten it into text, its message) is known, with
// the matching sentinel.
func classify(what, path string, err error) error {
	if err == nil {
		return nil
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		if s := errnoSentinel(e); s != nil {
			return fmt.Errorf("hal: %s %s: %w: %w", what, path, s, err)
		}
		return fmt.Errorf("hal: %s %s: %w", what, path, err)
	}
	msg := err.Error()
	for _, e := range []syscall.Errno{syscall.ENOENT, syscall.ENODEV, syscall.EACCES, syscall.EPERM,
		syscall.EBUSY, syscall.ENXIO, syscall.EREMOTEIO, syscall.ETIMEDOUT, syscall.EIO} {
		if strings.Contains(msg, e.Error()) {
			return fmt.Errorf("hal: %s %s: %w: %w", what, path, errnoSentinel(e), err)
		}
	}
	return fmt.Errorf("hal: %s %s: %w", what, path, err)
}
