package registry_test

import (
	"errors"
	"testing"

	"medagent/hal"
	"medagent/hal/buserr"
	"medagent/sensors"
	"medagent/sensors/registry"
	"medagent/sensors/tmp117"
)

var good = []sensors.Config{
	{Name: "temp", Driver: "tmp117", Bus: "1", Address: 0x48, Rate: 1},
	{Name: "ppg", Driver: "max30102", Bus: "sim", Address: 0x57, Rate: 100, DRDY: "sim:max-int"},
	{Name: "ecg", Driver: "ads1292r", Bus: "/dev/spidev0.0", SPIMode: 1, SPIMaxHz: 1000000, DRDY: "GPIO25", Rate: 500},
	{Name: "spo2", Driver: "nonin", Bus: "/dev/serial/by-id/usb-nonin",
		Serial: hal.SerialFraming{Baud: 9600, DataBits: 8, Parity: "none", StopBits: 1, Flow: "none"}},
}

func TestResolveGood(t *testing.T) {
	for _, c := range good {
		if _, err := registry.Resolve(c); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
	}
}

// Every problem is a *sensors.KeyError naming the entry's key, and
// matches buserr.ErrBadConfig.
func TestResolveRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		i    int
		mod  func(c *sensors.Config)
		key  string
	}{
		{"bad name", 0, func(c *sensors.Config) { c.Name = "Temp 1" }, "name"},
		{"unknown driver", 0, func(c *sensors.Config) { c.Driver = "tmp116" }, "driver"},
		{"no bus", 0, func(c *sensors.Config) { c.Bus = "" }, "bus"},
		{"negative rate", 0, func(c *sensors.Config) { c.Rate = -1 }, "rate"},
		{"tmp117 address", 0, func(c *sensors.Config) { c.Address = 0x40 }, "address"},
		{"tmp117 bus", 0, func(c *sensors.Config) { c.Bus = "/dev/spidev0.0" }, "bus"},
		{"tmp117 rate", 0, func(c *sensors.Config) { c.Rate = 100 }, "rate"},
		{"tmp117 cycle", 0, func(c *sensors.Config) { c.Rate = 3 }, "rate"},
		{"bad option value", 0, func(c *sensors.Config) { c.Settings = &tmp117.Settings{Mode: "continuous", Averaging: 7} }, "options.averaging"},
		{"stuck_after", 0, func(c *sensors.Config) { c.StuckAfter = 1 }, "stuck_after"},
		{"max rate", 1, func(c *sensors.Config) { c.Rate = 123 }, "rate"},
		{"max address", 1, func(c *sensors.Config) { c.Address = 0x58 }, "address"},
		{"sim pin on real bus", 1, func(c *sensors.Config) { c.Bus = "1" }, "drdy"},
		{"ads wrong spi mode", 2, func(c *sensors.Config) { c.SPIMode = 0 }, "spi_mode"},
		{"ads too fast", 2, func(c *sensors.Config) { c.SPIMaxHz = 40000000 }, "spi_max_hz"},
		{"ads no drdy", 2, func(c *sensors.Config) { c.DRDY = "" }, "drdy"},
		{"ads rate", 2, func(c *sensors.Config) { c.Rate = 300 }, "rate"},
		{"ads i2c bus", 2, func(c *sensors.Config) { c.Bus = "1" }, "bus"},
		{"ads address", 2, func(c *sensors.Config) { c.Address = 0x10 }, "address"},
		{"nonin parity", 3, func(c *sensors.Config) { c.Serial.Parity = "even" }, "serial"},
		{"nonin flow", 3, func(c *sensors.Config) { c.Serial.Flow = "rtscts" }, "serial.flow"},
		{"nonin data bits", 3, func(c *sensors.Config) { c.Serial.DataBits = 9 }, "serial.data_bits"},
		{"nonin relative path", 3, func(c *sensors.Config) { c.Bus = "ttyUSB0" }, "bus"},
		{"nonin rate", 3, func(c *sensors.Config) { c.Rate = 100 }, "rate"},
		{"nonin options", 3, func(c *sensors.Config) { c.Settings = &tmp117.Settings{} }, "options"},
		{"nonin drdy", 3, func(c *sensors.Config) { c.DRDY = "GPIO1" }, "address"},
		{"serial on i2c", 0, func(c *sensors.Config) { c.Serial = hal.SerialFraming{Baud: 9600, DataBits: 8, StopBits: 1} }, "serial"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good[tc.i]
			tc.mod(&c)
			_, err := registry.Resolve(c)
			var ke *sensors.KeyError
			if !errors.As(err, &ke) || !errors.Is(err, buserr.ErrBadConfig) {
				t.Fatalf("Resolve = %v, want a *sensors.KeyError matching ErrBadConfig", err)
			}
			if ke.Key != tc.key {
				t.Fatalf("error %q names key %q, want %q", err, ke.Key, tc.key)
			}
		})
	}
}

// Every descriptor is found under its name and each alias, and no two
// share a name.
func TestLookup(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range registry.All() {
		for _, n := range append([]string{d.Name}, d.Aliases...) {
			if seen[n] {
				t.Errorf("driver name %q twice", n)
			}
			seen[n] = true
			if got, ok := registry.Lookup(n); !ok || got != d {
				t.Errorf("Lookup(%q) = %v, %v", n, got, ok)
			}
		}
	}
	if _, ok := registry.Lookup("sim-ecg"); ok {
		t.Error("Lookup found a generator")
	}
}
