package sensors

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"medagent/hal/buserr"
	"medagent/hal/spec"
	"medagent/internal/field"
)

// SimBus is the bus name of the simulators (a bench build's): "sim" for
// a bus or port, "sim:NAME" for a line.
const SimBus = "sim"

// Config is one sensor entry of the agent configuration.
type Config struct {
	// Name identifies the sensor in streams, events and logs.
	Name string `yaml:"name"`
	// Driver is a Descriptor's Name or one of its Aliases.
	Driver string `yaml:"driver"`
	// Rate is the sample rate in samples per second; 0 takes the part's
	// default.
	Rate float64 `yaml:"rate"`
	// Bus is the I²C bus ("1", "/dev/i2c-1"), the SPI port ("0.0",
	// "/dev/spidev0.0"), the serial device path, or "sim".
	Bus string `yaml:"bus"`
	// Address is the 7-bit I²C address (I²C parts only).
	Address uint16 `yaml:"address"`
	// DRDY is the data-ready / interrupt GPIO line ("GPIO17", or
	// "sim:NAME" with bus sim).
	DRDY string `yaml:"drdy"`
	// SPIMode and SPIMaxHz describe the SPI link (0 Hz: the part's
	// default clock).
	SPIMode  int `yaml:"spi_mode"`
	SPIMaxHz int `yaml:"spi_max_hz"`
	// Serial is the framing of a serial part; zero takes the part's.
	Serial spec.SerialFraming `yaml:"serial"`
	// StuckAfter is how long identical raw values may repeat before the
	// part is taken as stuck; 0 takes the part's default.
	StuckAfter time.Duration `yaml:"stuck_after"`
	// Settings are the part's options (Descriptor.NewSettings); nil
	// takes the defaults.
	Settings Settings `yaml:"options"`
}

// KeyError is a problem with one key of a sensor entry ("address",
// "options.averaging"); it matches buserr.ErrBadConfig.
type KeyError = field.Error

// Bad returns a *KeyError for key.
func Bad(key, format string, a ...any) error {
	return &KeyError{Key: key, Msg: fmt.Sprintf(format, a...), Err: buserr.ErrBadConfig}
}

// Bus kinds of a Link.
const (
	I2C    = "i2c"
	SPI    = "spi"
	Serial = "serial"
)

// Line says whether a part uses a data-ready / interrupt line.
type Line int

// Whether the drdy key is taken.
const (
	NoLine Line = iota
	OptionalLine
	RequiredLine
)

// Link is how a part is connected.
type Link struct {
	Bus string // I2C, SPI or Serial
	// Addr: the lowest and the highest I²C address the part answers at.
	Addr [2]uint16
	// SPIMode is the only SPI mode the part speaks; SPIMaxHz its
	// fastest clock.
	SPIMode  int
	SPIMaxHz int
	DRDY     Line
	// Framing is the only framing a serial part speaks; an entry without
	// serial: takes it.
	Framing spec.SerialFraming
}

var nameRE = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// Resolve checks an entry against the descriptor (name, link, options,
// stuck_after, then the part's own checks) and returns what the part
// delivers and how to open it. A problem is a *KeyError naming the key.
// Settings and StuckAfter are filled with the part's defaults first.
func (d *Descriptor) Resolve(c Config) (Source, error) {
	if !nameRE.MatchString(c.Name) {
		return Source{}, Bad("name", "%q must match [a-z0-9_-]{1,32}", c.Name)
	}
	if c.Rate < 0 {
		return Source{}, Bad("rate", "%v is negative", c.Rate)
	}
	if err := d.Link.check(d.Name, &c); err != nil {
		return Source{}, err
	}
	switch {
	case c.Settings == nil && d.NewSettings != nil:
		c.Settings = d.NewSettings()
	case c.Settings != nil && d.NewSettings == nil:
		return Source{}, Bad("options", "the %s takes no options", d.Name)
	}
	if c.Settings != nil {
		if err := c.Settings.Check(); err != nil {
			if ke, ok := err.(*KeyError); ok {
				return Source{}, &KeyError{Key: "options." + ke.Key, Msg: ke.Msg, Err: buserr.ErrBadConfig}
			}
			return Source{}, Bad("options", "%v", err)
		}
	}
	if c.StuckAfter == 0 {
		c.StuckAfter = d.StuckAfter
	} else if c.StuckAfter < 100*time.Millisecond || c.StuckAfter > time.Hour {
		return Source{}, Bad("stuck_after", "must be 100ms..1h0m0s, got %v", c.StuckAfter)
	}
	return d.Source(c)
}

// IsSim reports whether a bus or line name is a simulator's.
func IsSim(name string) bool { return name == SimBus || strings.HasPrefix(name, SimBus+":") }

func (l Link) check(part string, c *Config) error {
	if c.Bus == "" {
		return Bad("bus", "required")
	}
	sim := IsSim(c.Bus)
	if c.DRDY != "" && IsSim(c.DRDY) != sim {
		return Bad("drdy", "%q: simulated lines (sim:NAME) go with bus sim and only with it", c.DRDY)
	}
	if l.Bus != Serial && c.Serial != (spec.SerialFraming{}) {
		return Bad("serial", "only for serial drivers")
	}
	switch l.Bus {
	case I2C:
		if c.Bus != SimBus {
			if _, err := spec.I2CPath(c.Bus); err != nil {
				return Bad("bus", "%q is not an I2C bus (N, i2c-N or /dev/i2c-N) or sim", c.Bus)
			}
		}
		if c.Address < l.Addr[0] || c.Address > l.Addr[1] {
			return Bad("address", "%#x not in %#x..%#x", c.Address, l.Addr[0], l.Addr[1])
		}
		if c.SPIMode != 0 || c.SPIMaxHz != 0 {
			return Bad("spi_mode", "not used by an I2C device")
		}
	case SPI:
		if c.Address != 0 {
			return Bad("address", "not used by an SPI device")
		}
		if !sim {
			if _, err := spec.SPIPath(c.Bus); err != nil {
				return Bad("bus", "%q is not an SPI port (B.C or /dev/spidevB.C) or sim", c.Bus)
			}
		}
		if c.SPIMode != l.SPIMode {
			return Bad("spi_mode", "%d, the %s needs mode %d", c.SPIMode, part, l.SPIMode)
		}
		if c.SPIMaxHz < 0 || c.SPIMaxHz > l.SPIMaxHz {
			return Bad("spi_max_hz", "%d not in 0..%d", c.SPIMaxHz, l.SPIMaxHz)
		}
	case Serial:
		if c.Address != 0 || c.DRDY != "" || c.SPIMode != 0 || c.SPIMaxHz != 0 {
			return Bad("address", "a serial device takes no address, drdy, spi_mode or spi_max_hz")
		}
		if c.Bus == SimBus {
			if c.Serial != (spec.SerialFraming{}) {
				return Bad("serial", "the simulated %s (bus sim) has its fixed framing; leave serial out", part)
			}
		} else if !strings.HasPrefix(c.Bus, "/") {
			return Bad("bus", "%q: want an absolute serial device path or sim", c.Bus)
		}
		if c.Serial == (spec.SerialFraming{}) {
			c.Serial = l.Framing
		}
		if err := c.Serial.Validate(); err != nil {
			key, msg, _ := strings.Cut(strings.TrimSuffix(err.Error(), ": "+buserr.ErrBadConfig.Error()), ": ")
			return Bad(key, "%s", msg)
		}
		if f := c.Serial; f.Baud != l.Framing.Baud || f.DataBits != l.Framing.DataBits ||
			parity(f.Parity) != parity(l.Framing.Parity) || f.StopBits != l.Framing.StopBits {
			return Bad("serial", "the %s speaks %d baud %d%s%d only", part, l.Framing.Baud, l.Framing.DataBits,
				strings.ToUpper(parity(l.Framing.Parity)[:1]), l.Framing.StopBits)
		}
	default:
		return fmt.Errorf("sensors: %s: unknown link %q", part, l.Bus)
	}
	if c.DRDY == "" && l.DRDY == RequiredLine {
		return Bad("drdy", "required: the %s is read on its data-ready line", part)
	}
	if c.DRDY != "" && l.DRDY == NoLine {
		return Bad("drdy", "the %s has no data-ready line", part)
	}
	return nil
}

func parity(p string) string {
	if p == "" {
		return "none"
	}
	return p
}
