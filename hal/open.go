package hal

import (
	"fmt"
	"os"

	"medagent/hal/buserr"
	"medagent/hal/spec"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spireg"
)

// I2CPath returns the device node for a bus name (see spec.I2CPath).
func I2CPath(name string) (string, error) { return spec.I2CPath(name) }

// OpenI2C opens an I²C bus by name.
func OpenI2C(name string) (i2c.BusCloser, error) {
	path, err := I2CPath(name)
	if err != nil {
		return nil, err
	}
	return openI2CDev(path)
}

// SPIPath returns the device node for a port name (see spec.SPIPath).
func SPIPath(name string) (string, error) { return spec.SPIPath(name) }

// OpenSPI opens an SPI port by name. The returned port refuses Connect
// with a mode other than mode or a speed above maxSpeed (when non-zero),
// so a driver/config mismatch fails at start-up with a message naming
// both.
func OpenSPI(name string, mode spi.Mode, maxSpeed physic.Frequency) (spi.PortCloser, error) {
	path, err := SPIPath(name)
	if err != nil {
		return nil, err
	}
	// Stat first: periph reports a missing node as "no SPI port found".
	if f, err := os.OpenFile(path, os.O_RDWR, 0); err != nil {
		return nil, classify("open SPI port", path, err)
	} else {
		f.Close()
	}
	if err := Init(); err != nil {
		return nil, err
	}
	p, err := spireg.Open(path)
	if err != nil {
		return nil, classify("open SPI port", path, err)
	}
	return LimitSPI(p, path, mode, maxSpeed)
}

// LimitSPI wraps an open port so that Connect refuses a mode other than
// mode and caps the clock at maxSpeed (when non-zero); path names it in
// errors.
func LimitSPI(p spi.PortCloser, path string, mode spi.Mode, maxSpeed physic.Frequency) (spi.PortCloser, error) {
	if maxSpeed > 0 {
		if err := p.LimitSpeed(maxSpeed); err != nil {
			p.Close()
			return nil, classify("limit speed of SPI port", path, err)
		}
	}
	return &spiPort{PortCloser: p, path: path, mode: mode, max: maxSpeed}, nil
}

type spiPort struct {
	spi.PortCloser
	path string
	mode spi.Mode
	max  physic.Frequency
}

func (p *spiPort) Connect(f physic.Frequency, mode spi.Mode, bits int) (spi.Conn, error) {
	if mode != p.mode {
		return nil, fmt.Errorf("hal: SPI %s: driver needs mode %d but the configuration says mode %d (wrong mode): %w",
			p.path, mode, p.mode, buserr.ErrBadConfig)
	}
	if p.max > 0 && f > p.max {
		f = p.max
	}
	c, err := p.PortCloser.Connect(f, mode, bits)
	if err != nil {
		return nil, classify("connect SPI", p.path, err)
	}
	return &spiConn{Conn: c, path: p.path}, nil
}

// spiConn names the port and maps errno in transfer errors (periph's
// spidev driver flattens them into text).
type spiConn struct {
	spi.Conn
	path string
}

func (c *spiConn) Tx(w, r []byte) error {
	if err := c.Conn.Tx(w, r); err != nil {
		return classify("SPI transfer on", c.path, err)
	}
	return nil
}

func (c *spiConn) TxPackets(p []spi.Packet) error {
	if err := c.Conn.TxPackets(p); err != nil {
		return classify("SPI transfer on", c.path, err)
	}
	return nil
}

// OpenPin opens a GPIO line by name (as periph's gpioreg knows it, e.g.
// "GPIO17" or a gpiochip line name) as an input with edge detection.
func OpenPin(name string, pull gpio.Pull, edge gpio.Edge) (gpio.PinIn, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	p := gpioreg.ByName(name)
	if p == nil {
		return nil, fmt.Errorf("hal: GPIO line %q: %w", name, buserr.ErrNotFound)
	}
	return InputPin(p, name, pull, edge)
}

// InputPin configures an open line as an input with edge detection.
func InputPin(p gpio.PinIO, name string, pull gpio.Pull, edge gpio.Edge) (gpio.PinIn, error) {
	if err := p.In(pull, edge); err != nil {
		return nil, classify("configure GPIO line", name, err)
	}
	return p, nil
}
