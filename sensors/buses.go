package sensors

import (
	"io"
	"time"

	"medagent/hal/spec"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// Buses opens the links a part needs, by the names a sensor entry gives:
// the hardware's (package hal, through acquire) or, in a bench build, the simulators' behind
// bus "sim". A part's Open takes the bus; it never owns the Buses.
type Buses struct {
	// I2C opens an I²C bus ("1", "/dev/i2c-1").
	I2C func(name string) (i2c.BusCloser, error)
	// SPI opens an SPI port ("0.0") that refuses another mode and caps
	// the clock at maxSpeed (0: no cap).
	SPI func(name string, mode spi.Mode, maxSpeed physic.Frequency) (spi.PortCloser, error)
	// Pin opens a GPIO line as an input with edge detection.
	Pin func(name string, pull gpio.Pull, edge gpio.Edge) (gpio.PinIn, error)
	// Serial opens a serial port; a read returns (0, nil) after
	// readTimeout without data.
	Serial func(path string, f spec.SerialFraming, readTimeout time.Duration) (io.ReadWriteCloser, error)
	// Clock is the parts' monotonic time, for drivers that estimate lost
	// samples from it (the simulators' clock); nil: time since open.
	Clock func() time.Duration
}
