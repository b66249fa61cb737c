package hal_test

import (
	"errors"
	"strings"
	"testing"

	"medagent/hal"
	"medagent/hal/buserr"

	"gopkg.in/yaml.v3"
)

const goodYAML = `
- name: temp
  driver: tmp117
  bus: "1"
  address: 0x48
  rate: 1
  options: {averaging: "8", mode: continuous}
- name: ppg
  driver: max30102
  bus: sim
  address: 0x57
  rate: 100
  drdy: sim:max-int
- name: ecg
  driver: ads1292r
  bus: /dev/spidev0.0
  spi_mode: 1
  spi_max_hz: 1000000
  drdy: GPIO25
  rate: 500
  options: {gain2: "6", lead_off: "true"}
- name: spo2
  driver: nonin
  bus: /dev/serial/by-id/usb-nonin
  serial: {baud: 9600, data_bits: 8, parity: none, stop_bits: 1, flow: none}
`

func decode(t *testing.T, src string) []hal.SensorConfig {
	t.Helper()
	var cs []hal.SensorConfig
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestSensorConfigValid(t *testing.T) {
	cs := decode(t, goodYAML)
	if len(cs) != 4 || cs[0].Address != 0x48 || cs[3].Serial == nil || cs[3].Serial.Baud != 9600 {
		t.Fatalf("decoded %+v", cs)
	}
	for _, c := range cs {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
	}
}

func TestSensorConfigInvalid(t *testing.T) {
	base := decode(t, goodYAML)
	for _, tc := range []struct {
		name string
		i    int
		mod  func(c *hal.SensorConfig)
		key  string
	}{
		{"bad name", 0, func(c *hal.SensorConfig) { c.Name = "Temp 1" }, "name"},
		{"unknown driver", 0, func(c *hal.SensorConfig) { c.Driver = "tmp116" }, "driver"},
		{"no bus", 0, func(c *hal.SensorConfig) { c.Bus = "" }, "bus"},
		{"tmp117 address", 0, func(c *hal.SensorConfig) { c.Address = 0x40 }, "address"},
		{"tmp117 bus", 0, func(c *hal.SensorConfig) { c.Bus = "/dev/spidev0.0" }, "bus"},
		{"tmp117 rate", 0, func(c *hal.SensorConfig) { c.Rate = 100 }, "rate"},
		{"unknown option", 0, func(c *hal.SensorConfig) { c.Options = map[string]string{"avg": "8"} }, "options.avg"},
		{"bad option value", 0, func(c *hal.SensorConfig) { c.Options = map[string]string{"averaging": "7"} }, "options.averaging"},
		{"max rate", 1, func(c *hal.SensorConfig) { c.Rate = 123 }, "rate"},
		{"max address", 1, func(c *hal.SensorConfig) { c.Address = 0x58 }, "address"},
		{"sim pin on real bus", 1, func(c *hal.SensorConfig) { c.Bus = "1" }, "drdy"},
		{"ads wrong spi mode", 2, func(c *hal.SensorConfig) { c.SPIMode = 0 }, "spi_mode"},
		{"ads too fast", 2, func(c *hal.SensorConfig) { c.SPIMaxHz = 40000000 }, "spi_max_hz"},
		{"ads no drdy", 2, func(c *hal.SensorConfig) { c.DRDY = "" }, "drdy"},
		{"ads rate", 2, func(c *hal.SensorConfig) { c.Rate = 300 }, "rate"},
		{"ads i2c bus", 2, func(c *hal.SensorConfig) { c.Bus = "1" }, "bus"},
		{"nonin no serial", 3, func(c *hal.SensorConfig) { c.Serial = nil }, "serial"},
		{"nonin parity", 3, func(c *hal.SensorConfig) { s := *c.Serial; s.Parity = "even"; c.Serial = &s }, "serial"},
		{"nonin flow", 3, func(c *hal.SensorConfig) { s := *c.Serial; s.Flow = "rtscts"; c.Serial = &s }, "serial.flow"},
		{"nonin data bits", 3, func(c *hal.SensorConfig) { s := *c.Serial; s.DataBits = 9; c.Serial = &s }, "serial.data_bits"},
		{"nonin relative path", 3, func(c *hal.SensorConfig) { c.Bus = "ttyUSB0" }, "bus"},
		{"serial on i2c", 0, func(c *hal.SensorConfig) { c.Serial = &hal.SerialFraming{Baud: 9600, DataBits: 8, StopBits: 1} }, "serial"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base[tc.i]
			tc.mod(&c)
			err := c.Validate()
			if !errors.Is(err, buserr.ErrBadConfig) {
				t.Fatalf("Validate = %v, want ErrBadConfig", err)
			}
			if !strings.Contains(err.Error(), " "+tc.key+": ") {
				t.Fatalf("error %q does not name key %q", err, tc.key)
			}
		})
	}
}

func TestSensorConfigUnknownYAMLKey(t *testing.T) {
	var cs []hal.SensorConfig
	dec := yaml.NewDecoder(strings.NewReader("- name: x\n  adress: 0x48\n"))
	dec.KnownFields(true)
	if err := dec.Decode(&cs); err == nil || !strings.Contains(err.Error(), "adress") {
		t.Fatalf("strict decode = %v, want an error naming adress", err)
	}
}
