package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"medagent/hal"
)

// Sensor entries of the real drivers: every hal.SensorConfig problem is
// reported at the sensor's key, with the file line.
var sensorBadCases = []struct {
	name, yaml string
	line       int
	key, msg   string
}{
	{"i2c address", "sensors:\n  - {name: ecg, driver: ads1292, bus: sim, drdy: 'sim:ads-drdy', spi_mode: 1}\n  - {name: ppg, driver: max3010x, bus: sim, address: 0x57}\n  - name: temp\n    driver: tmp117\n    bus: sim\n    address: 0x40\n",
		14, "sensors[2].address", "not in 0x48..0x4b"},
	{"spi mode", "sensors:\n  - name: ecg\n    driver: ads1292r\n    bus: sim\n    drdy: sim:ads-drdy\n    spi_mode: 0\n", 13, "sensors[0].spi_mode", "needs mode 1"},
	{"drdy required", "sensors:\n  - {name: ecg, driver: ads1292, bus: '0.0', spi_mode: 1}\n", 9, "sensors[0].drdy", "required"},
	{"i2c bus", "sensors:\n  - name: t\n    driver: tmp117\n    bus: usb\n    address: 0x48\n", 11, "sensors[0].bus", "not an I2C bus"},
	{"max rate", "sensors:\n  - {name: p, driver: max30101, bus: '1', address: 0x57, rate: 75}\n", 9, "sensors[0].rate", "not one of 50, 100"},
	{"unknown option", "sensors:\n  - name: p\n    driver: max3010x\n    bus: sim\n    address: 0x57\n    options: {colour: red}\n", 13, "sensors[0].options.colour", "unknown option"},
	{"bad option", "sensors:\n  - name: t\n    driver: tmp117\n    bus: sim\n    address: 0x48\n    options:\n      averaging: 7\n", 14, "sensors[0].options.averaging", "not one of 1, 8, 32, 64"},
	{"nonin path", "sensors:\n  - {name: o, driver: nonin, bus: ttyUSB0}\n", 9, "sensors[0].bus", "absolute serial device path"},
	{"nonin baud", "sensors:\n  - name: o\n    driver: nonin\n    bus: /dev/ttyUSB0\n    serial: {baud: 19200, data_bits: 8, stop_bits: 1}\n", 12, "sensors[0].serial", "9600 baud 8N1"},
	{"serial key", "sensors:\n  - name: o\n    driver: nonin\n    bus: /dev/ttyUSB0\n    serial: {baud: 9600, databits: 8}\n", 12, "sensors[0].serial.databits", "unknown key"},
	{"serial on i2c", "sensors:\n  - name: t\n    driver: tmp117\n    bus: sim\n    address: 0x48\n    serial: {baud: 9600, data_bits: 8, stop_bits: 1}\n", 13, "sensors[0].serial", "only for serial drivers"},
	{"nonin sim framing", "sensors:\n  - name: o\n    driver: nonin\n    bus: sim\n    serial: {baud: 9600, data_bits: 8, stop_bits: 1}\n", 12, "sensors[0].serial", "fixed framing"},
	{"generator with address", "sensors:\n  - {name: t, driver: sim-temp, rate: 1, bus: sim, address: 0x48}\n", 9, "sensors[0].driver", "pure generator"},
	{"stuck_after range", "sensors:\n  - name: t\n    driver: tmp117\n    bus: sim\n    address: 0x48\n    stuck_after: 1ms\n", 13, "sensors[0].stuck_after", "must be"},
	{"channel range", "sensors:\n  - {name: ecg, driver: ads1292, bus: sim, drdy: 'sim:ads-drdy', spi_mode: 1, channel: 3}\n", 9, "sensors[0].channel", "must be 1..2"},
	{"channel on i2c", "sensors:\n  - {name: t, driver: tmp117, bus: sim, address: 0x48, channel: 1}\n", 9, "sensors[0].channel", "only for the ads1292"},
	{"name for hal", "sensors:\n  - {name: ECG, driver: ads1292, bus: sim, drdy: 'sim:ads-drdy', spi_mode: 1}\n", 9, "sensors[0].name", "must match"},
}

func TestSensorErrorsNameTheKey(t *testing.T) {
	for _, tc := range sensorBadCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("medagent.yaml", []byte(minimal+tc.yaml))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Parse() error = %v, want *config.Error", err)
			}
			if ce.Line != tc.line || ce.Key != tc.key || !strings.Contains(ce.Msg, tc.msg) {
				t.Errorf("got line=%d key=%q msg=%q\nwant line=%d key=%q msg containing %q", ce.Line, ce.Key, ce.Msg, tc.line, tc.key, tc.msg)
			}
		})
	}
}

// Every real driver parses, with aliases resolved and defaults filled in
// the hal form.
func TestSensorRealDrivers(t *testing.T) {
	cfg, err := Parse("m.yaml", []byte(minimal+`sensors:
  - {name: ecg, driver: ads1292, rate: 250, bus: /dev/spidev0.0, drdy: GPIO25, spi_mode: 1, options: {gain2: 6, lead_off: true}}
  - {name: ppg, driver: max3010x, rate: 100, bus: "1", address: 0x57, drdy: GPIO17, options: {averaging: 4}}
  - {name: temp, driver: tmp117, rate: 1, bus: /dev/i2c-1, address: 0x49, stuck_after: 5m}
  - {name: oxi, driver: nonin, bus: /dev/ttyUSB0}
  - {name: oxisim, driver: nonin, bus: sim}
`))
	if err != nil {
		t.Fatal(err)
	}
	h := make([]hal.SensorConfig, len(cfg.Sensors))
	for i, s := range cfg.Sensors {
		h[i] = s.HAL()
		if err := h[i].Validate(); err != nil {
			t.Errorf("sensors[%d]: %v", i, err)
		}
	}
	if h[0].Driver != hal.DriverADS1292R || h[0].Options["gain2"] != "6" || h[0].Options["lead_off"] != "true" {
		t.Errorf("ecg = %+v, want driver ads1292r and options as strings", h[0])
	}
	if h[1].Driver != hal.DriverMAX30102 || h[1].Address != 0x57 || h[1].Options["averaging"] != "4" {
		t.Errorf("ppg = %+v", h[1])
	}
	if cfg.Sensors[2].StuckAfter != 5*time.Minute || h[2].Address != 0x49 {
		t.Errorf("temp = %+v", cfg.Sensors[2])
	}
	want := hal.SerialFraming{Baud: 9600, DataBits: 8, Parity: "none", StopBits: 1}
	if h[3].Serial == nil || *h[3].Serial != want {
		t.Errorf("nonin serial = %+v, want the 9600 8N1 default", h[3].Serial)
	}
	if h[4].Bus != NoninSimPath {
		t.Errorf("simulated nonin bus = %q, want the placeholder %q", h[4].Bus, NoninSimPath)
	}
	if cfg.Sensors[0].IsSim() || !(Sensor{Driver: "sim-ppg"}).IsSim() {
		t.Error("IsSim disagrees with the driver kinds")
	}
}

// The default sensors run the real drivers on the simulators.
func TestDefaultSensorsAreRealDriversOnSim(t *testing.T) {
	for i, s := range Default().Sensors {
		if s.IsSim() || s.Bus != hal.SimName {
			t.Errorf("default sensors[%d] = %+v, want a real driver on bus sim", i, s)
		}
		h := s.HAL()
		if err := h.Validate(); err != nil {
			t.Errorf("default sensors[%d]: %v", i, err)
		}
	}
}

// FuzzParseSensors feeds sensor sections (seeds from the table tests): a
// configuration is refused with a *config.Error or accepted only when
// every real-driver entry passes hal's validation.
func FuzzParseSensors(f *testing.F) {
	for _, tc := range sensorBadCases {
		f.Add([]byte(tc.yaml))
	}
	f.Add([]byte("sensors:\n  - {name: oxi, driver: nonin, bus: sim}\n  - {name: p, driver: max3010x, bus: sim, address: 0x57, options: {averaging: 4}}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := Parse("fuzz.yaml", append([]byte(minimal), b...))
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *config.Error", err)
			}
			return
		}
		for i, s := range cfg.Sensors {
			if s.IsSim() {
				continue
			}
			h := s.HAL()
			if err := h.Validate(); err != nil {
				t.Fatalf("accepted sensors[%d] that hal refuses: %v", i, err)
			}
		}
	})
}
