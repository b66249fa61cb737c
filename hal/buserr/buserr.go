package buserr

import (
	"errors"
	"fmt"
)

var (
	// ErrNACK means the addressed device did not acknowledge (absent,
	// wrong address, or held in reset).
	ErrNACK = errors.New("device did not acknowledge (NACK)")
	// ErrTimeout means a bus transaction or a wait for data did not
	// complete in time.
	ErrTimeout = errors.New("timeout")
	// ErrWrongID means the chip answered but its identification register
	// does not match the driver's part.
	ErrWrongID = errors.New("wrong chip ID")
	// ErrNotFound means the device node or line does not exist.
	ErrNotFound = errors.New("device not found")
	// ErrPermission means the device exists but the process may not open it.
	ErrPermission = errors.New("permission denied")
	// ErrBusy means another process or driver holds the device.
	ErrBusy = errors.New("device busy")
	// ErrDisconnected means a serial device went away (unplugged, hang-up).
	ErrDisconnected = errors.New("device disconnected")
	// ErrBadFrame means the bytes on a link do not form the part's frames
	// (lost sync, no frame in a second's worth of bytes).
	ErrBadFrame = errors.New("bad frame")
	// ErrBadConfig means a configuration value is out of range for the part.
	ErrBadConfig = errors.New("invalid configuration")
)

// IDError reports an identification register mismatch. It matches
// ErrWrongID with errors.Is.
type IDError struct {
	Chip string
	Got  uint32
	Want uint32
}

func (e *IDError) Error() string {
	return fmt.Sprintf("%s: wrong chip ID: got %#x, want %#x", e.Chip, e.Got, e.Want)
}

// Is reports whether target is ErrWrongID.
func (e *IDError) Is(target error) bool { return target == ErrWrongID }
