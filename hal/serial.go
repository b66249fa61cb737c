package hal

import (
	"errors"
	"fmt"
	"time"

	"medagent/hal/buserr"

	"go.bug.st/serial"
)

// SerialFraming is a serial line's framing, as written in the sensor
// configuration.
type SerialFraming struct {
	Baud     int    `yaml:"baud"`
	DataBits int    `yaml:"data_bits"` // 5..8
	Parity   string `yaml:"parity"`    // none, even, odd, mark, space
	StopBits int    `yaml:"stop_bits"` // 1 or 2
	// Flow is the flow control; only "none" is supported, because
	// go.bug.st/serial v1.8.0 always disables RTS/CTS.
	Flow string `yaml:"flow"`
}

// Validate checks the framing; errors name the key.
func (f SerialFraming) Validate() error {
	switch {
	case f.Baud <= 0 || f.Baud > 4000000:
		return fmt.Errorf("serial.baud: %d out of range: %w", f.Baud, buserr.ErrBadConfig)
	case f.DataBits < 5 || f.DataBits > 8:
		return fmt.Errorf("serial.data_bits: %d not in 5..8: %w", f.DataBits, buserr.ErrBadConfig)
	case f.StopBits != 1 && f.StopBits != 2:
		return fmt.Errorf("serial.stop_bits: %d not 1 or 2: %w", f.StopBits, buserr.ErrBadConfig)
	}
	if _, err := f.parity(); err != nil {
		return err
	}
	if f.Flow != "" && f.Flow != "none" {
		return fmt.Errorf("serial.flow: %q unsupported (only none): %w", f.Flow, buserr.ErrBadConfig)
	}
	return nil
}

func (f SerialFraming) parity() (serial.Parity, error) {
	switch f.Parity {
	case "", "none":
		return serial.NoParity, nil
	case "even":
		return serial.EvenParity, nil
	case "odd":
		return serial.OddParity, nil
	case "mark":
		return serial.MarkParity, nil
	case "space":
		return serial.SpaceParity, nil
	}
	return 0, fmt.Errorf("serial.parity: %q not none, even, odd, mark or space: %w", f.Parity, buserr.ErrBadConfig)
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
	par, _ := f.parity()
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
