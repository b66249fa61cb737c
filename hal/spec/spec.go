package spec

import (
	"fmt"
	"strconv"
	"strings"

	"medagent/hal/buserr"
)

// I2CPath returns the device node for a bus name: "1", "i2c-1" and
// "/dev/i2c-1" all name /dev/i2c-1.
func I2CPath(name string) (string, error) {
	n := strings.TrimPrefix(strings.TrimPrefix(name, "/dev/"), "i2c-")
	if _, err := strconv.ParseUint(n, 10, 16); err != nil {
		return "", fmt.Errorf("hal: I2C bus name %q: want a number, i2c-N or /dev/i2c-N: %w", name, buserr.ErrBadConfig)
	}
	return "/dev/i2c-" + n, nil
}

// SPIPath returns the device node for a port name: "0.1", "spidev0.1" and
// "/dev/spidev0.1" all name /dev/spidev0.1.
func SPIPath(name string) (string, error) {
	n := strings.TrimPrefix(strings.TrimPrefix(name, "/dev/"), "spidev")
	bus, cs, ok := strings.Cut(n, ".")
	_, e1 := strconv.ParseUint(bus, 10, 16)
	_, e2 := strconv.ParseUint(cs, 10, 16)
	if !ok || e1 != nil || e2 != nil {
		return "", fmt.Errorf("hal: SPI port name %q: want B.C, spidevB.C or /dev/spidevB.C: %w", name, buserr.ErrBadConfig)
	}
	return "/dev/spidev" + n, nil
}

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

// Parities are the parity names a framing may give ("" is none).
var Parities = []string{"none", "even", "odd", "mark", "space"}

// Validate checks the framing; errors name the key.
func (f SerialFraming) Validate() error {
	switch {
	case f.Baud <= 0 || f.Baud > 4000000:
		return fmt.Errorf("serial.baud: %d out of range: %w", f.Baud, buserr.ErrBadConfig)
	case f.DataBits < 5 || f.DataBits > 8:
		return fmt.Errorf("serial.data_bits: %d not in 5..8: %w", f.DataBits, buserr.ErrBadConfig)
	case f.StopBits != 1 && f.StopBits != 2:
		return fmt.Errorf("serial.stop_bits: %d not 1 or 2: %w", f.StopBits, buserr.ErrBadConfig)
	case f.Parity != "" && !contains(Parities, f.Parity):
		return fmt.Errorf("serial.parity: %q not none, even, odd, mark or space: %w", f.Parity, buserr.ErrBadConfig)
	case f.Flow != "" && f.Flow != "none":
		return fmt.Errorf("serial.flow: %q unsupported (only none): %w", f.Flow, buserr.ErrBadConfig)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
