package hal

import (
	"errors"
	"fmt"
	"time"

	"medagent/hal/buserr"
	"medagent/hal/spec"

	"go.bug.st/serial"
)

// SerialFraming is a serial line's framing (package spec, which does
// no I/O).
type SerialFraming = spec.SerialFraming

func parity(f SerialFraming) serial.Parity {
	switch f.Parity {
	case "even":
		return serial.EvenParity
	case "odd":
		return serial.OddParity
	case "mark":
		return serial.MarkParity
	case "space":
		return serial.SpaceParity
	}
	return serial.NoParity
}

// Serial is an open serial port whose errors carry buserr sentinels:
// a vanished device reads as buserr.ErrDisconnected.
type Serial struct {
	p    serial.Port
	path string
}

// OpenSerial opens path with the given framing. Reads return (0, nil)
// after readTimeout without data (0 means block).
func OpenSerial(path string, f SerialFraming, readTimeout time.Duration) (*Serial, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("hal: serial %s: %w", path, err)
	}
	par := parity(f)
	stop := serial.OneStopBit
	if f.StopBits == 2 {
		stop = serial.TwoStopBits
	}
	p, err := serial.Open(path, &serial.Mode{BaudRate: f.Baud, DataBits: f.DataBits, Parity: par, StopBits: stop})
	if err != nil {
		return nil, serialErr("open serial port", path, err)
	}
	if readTimeout > 0 {
		if err := p.SetReadTimeout(readTimeout); err != nil {
			p.Close()
			return nil, serialErr("set read timeout on", path, err)
		}
	}
	return &Serial{p: p, path: path}, nil
}

func serialErr(what, path string, err error) error {
	var pe *serial.PortError
	if errors.As(err, &pe) {
		var s error
		switch pe.Code() {
		case serial.PortBusy:
			s = buserr.ErrBusy
		case serial.PortNotFound:
			s = buserr.ErrNotFound
		case serial.PermissionDenied:
			s = buserr.ErrPermission
		case serial.PortClosed:
			s = buserr.ErrDisconnected
		case serial.InvalidSerialPort:
			return fmt.Errorf("hal: %s %s: not a serial port (wrong mode): %w: %w", what, path, buserr.ErrBadConfig, err)
		}
		if s != nil {
			return fmt.Errorf("hal: %s %s: %w: %w", what, path, s, err)
		}
	}
	return classify(what, path, err)
}

// Read reads bytes; a timeout returns (0, nil).
func (s *Serial) Read(p []byte) (int, error) {
	n, err := s.p.Read(p)
	if err != nil {
		return n, serialErr("read", s.path, err)
	}
	return n, nil
}

// Write writes bytes.
func (s *Serial) Write(p []byte) (int, error) {
	n, err := s.p.Write(p)
	if err != nil {
		return n, serialErr("write", s.path, err)
	}
	return n, nil
}

// Close closes the port.
func (s *Serial) Close() error { return s.p.Close() }

// Path is the device path the port was opened with.
func (s *Serial) Path() string { return s.path }
