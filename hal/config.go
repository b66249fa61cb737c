package hal

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"medagent/hal/buserr"
)

// Driver names accepted in SensorConfig.Driver.
const (
	DriverTMP117   = "tmp117"
	DriverMAX30101 = "max30101"
	DriverMAX30102 = "max30102"
	DriverADS1292R = "ads1292r"
	DriverNonin    = "nonin"
)

// SensorConfig is one sensor entry of the agent configuration.
type SensorConfig struct {
	// Name identifies the sensor in logs and streams ([a-z0-9_-]+).
	Name string `yaml:"name"`
	// Driver is one of tmp117, max30101, max30102, ads1292r, nonin.
	Driver string `yaml:"driver"`
	// Bus is the I²C bus ("1", "/dev/i2c-1"), the SPI port ("0.0",
	// "/dev/spidev0.0"), the serial device path, or "sim" (SPI: "sim" or
	// "sim:NAME") for the register-level simulator.
	Bus string `yaml:"bus"`
	// Address is the 7-bit I²C address (I²C drivers only).
	Address uint16 `yaml:"address"`
	// Rate is the sample rate in samples per second; 0 takes the driver
	// default.
	Rate float64 `yaml:"rate"`
	// DRDY is the data-ready / interrupt GPIO line name ("GPIO17", or
	// "sim:NAME" with a simulated bus). Required for ads1292r.
	DRDY string `yaml:"drdy"`
	// SPIMode and SPIMaxHz describe the SPI link (ads1292r: mode 1,
	// at most 20 MHz; 0 Hz takes the driver default).
	SPIMode  int `yaml:"spi_mode"`
	SPIMaxHz int `yaml:"spi_max_hz"`
	// Serial is the serial framing (nonin: 9600 8N1 none).
	Serial *SerialFraming `yaml:"serial"`
	// Options are driver-specific settings; unknown keys are errors.
	Options map[string]string `yaml:"options"`
}

var nameRE = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// optionKeys lists the option keys each driver accepts, with a check.
var optionKeys = map[string]map[string]func(string) error{
	DriverTMP117: {
		"mode":      oneOf("continuous", "oneshot"),
		"averaging": oneOf("1", "8", "32", "64"),
		"offset_mk": isInt(-256000000, 256000000),
	},
	DriverMAX30101: maxOpts,
	DriverMAX30102: maxOpts,
	DriverADS1292R: {
		"gain1":       oneOf("1", "2", "3", "4", "6", "8", "12"),
		"gain2":       oneOf("1", "2", "3", "4", "6", "8", "12"),
		"vref":        oneOf("2.42", "4.033"),
		"lead_off":    oneOf("true", "false"),
		"rld":         oneOf("true", "false"),
		"respiration": oneOf("true", "false"),
	},
	DriverNonin: {},
}

var maxOpts = map[string]func(string) error{
	"mode":        oneOf("hr", "spo2", "multi"),
	"pulse_width": oneOf("69", "118", "215", "411"),
	"adc_range":   oneOf("2048", "4096", "8192", "16384"),
	"averaging":   oneOf("1", "2", "4", "8", "16", "32"),
	"led_red":     isInt(0, 255),
	"led_ir":      isInt(0, 255),
	"led_green":   isInt(0, 255),
	"rollover":    oneOf("true", "false"),
}

func oneOf(vals ...string) func(string) error {
	return func(v string) error {
		if !slices.Contains(vals, v) {
			return fmt.Errorf("%q not one of %s", v, strings.Join(vals, ", "))
		}
		return nil
	}
}

func isInt(lo, hi int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 0, 64)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("%q not an integer in %d..%d", v, lo, hi)
		}
		return nil
	}
}

// Validate checks the entry; every error names the sensor and the key.
func (c *SensorConfig) Validate() error {
	bad := func(key, format string, a ...any) error {
		return fmt.Errorf("sensor %q: %s: %s: %w", c.Name, key, fmt.Sprintf(format, a...), buserr.ErrBadConfig)
	}
	if !nameRE.MatchString(c.Name) {
		return bad("name", "%q must match [a-z0-9_-]{1,32}", c.Name)
	}
	opts, ok := optionKeys[c.Driver]
	if !ok {
		return bad("driver", "%q not one of tmp117, max30101, max30102, ads1292r, nonin", c.Driver)
	}
	if c.Bus == "" {
		return bad("bus", "required")
	}
	if c.Rate < 0 {
		return bad("rate", "%v is negative", c.Rate)
	}
	keys := make([]string, 0, len(c.Options))
	for k := range c.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		check, ok := opts[k]
		if !ok {
			return bad("options."+k, "unknown option for driver %s", c.Driver)
		}
		if err := check(c.Options[k]); err != nil {
			return bad("options."+k, "%v", err)
		}
	}
	simBus := c.Bus == SimName || strings.HasPrefix(c.Bus, SimName+":")
	if c.DRDY != "" && strings.HasPrefix(c.DRDY, SimName+":") != simBus {
		return bad("drdy", "%q: simulated lines (sim:NAME) go with bus sim and only with it", c.DRDY)
	}
	switch c.Driver {
	case DriverTMP117:
		if err := c.checkI2C(bad, 0x48, 0x4B); err != nil {
			return err
		}
		if c.Rate > 64.5 {
			return bad("rate", "%v above the TMP117's 64.5 conversions/s", c.Rate)
		}
	case DriverMAX30101, DriverMAX30102:
		if err := c.checkI2C(bad, 0x57, 0x57); err != nil {
			return err
		}
		if c.Rate != 0 && !slices.Contains([]float64{50, 100, 200, 400, 800, 1000, 1600, 3200}, c.Rate) {
			return bad("rate", "%v not one of 50, 100, 200, 400, 800, 1000, 1600, 3200", c.Rate)
		}
	case DriverADS1292R:
		if c.Address != 0 {
			return bad("address", "not used by an SPI device")
		}
		if !simBus {
			if _, err := SPIPath(c.Bus); err != nil {
				return bad("bus", "%q is not an SPI port (B.C or /dev/spidevB.C)", c.Bus)
			}
		}
		if c.SPIMode != 1 {
			return bad("spi_mode", "%d, the ADS1292R needs mode 1 (CPOL=0, CPHA=1)", c.SPIMode)
		}
		if c.SPIMaxHz < 0 || c.SPIMaxHz > 20000000 {
			return bad("spi_max_hz", "%d not in 0..20000000", c.SPIMaxHz)
		}
		if c.DRDY == "" {
			return bad("drdy", "required: the ADS1292R is read on DRDY falling edges")
		}
		if c.Rate != 0 && !slices.Contains([]float64{125, 250, 500, 1000, 2000, 4000, 8000}, c.Rate) {
			return bad("rate", "%v not one of 125, 250, 500, 1000, 2000, 4000, 8000", c.Rate)
		}
	case DriverNonin:
		if c.Address != 0 || c.DRDY != "" {
			return bad("address", "a serial device takes neither address nor drdy")
		}
		if !strings.HasPrefix(c.Bus, "/") {
			return bad("bus", "%q: want an absolute serial device path", c.Bus)
		}
		if c.Serial == nil {
			return bad("serial", "required (baud 9600, data_bits 8, parity none, stop_bits 1)")
		}
		if err := c.Serial.Validate(); err != nil {
			return fmt.Errorf("sensor %q: %w", c.Name, err)
		}
		if s := c.Serial; s.Baud != 9600 || s.DataBits != 8 || (s.Parity != "" && s.Parity != "none") || s.StopBits != 1 {
			return bad("serial", "Nonin Data Format #2 is 9600 baud 8N1")
		}
		if c.Rate != 0 && c.Rate != 75 {
			return bad("rate", "%v, Nonin Data Format #2 sends 75 frames/s", c.Rate)
		}
	}
	if c.Driver != DriverNonin && c.Serial != nil {
		return bad("serial", "only for serial drivers")
	}
	return nil
}

func (c *SensorConfig) checkI2C(bad func(string, string, ...any) error, lo, hi uint16) error {
	if c.Bus != SimName {
		if _, err := I2CPath(c.Bus); err != nil {
			return bad("bus", "%q is not an I2C bus (N, i2c-N or /dev/i2c-N) or sim", c.Bus)
		}
	}
	if c.Address < lo || c.Address > hi {
		return bad("address", "%#x not in %#x..%#x", c.Address, lo, hi)
	}
	if c.SPIMode != 0 || c.SPIMaxHz != 0 {
		return bad("spi_mode", "not used by an I2C device")
	}
	return nil
}
