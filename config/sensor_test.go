package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"medagent/sensors"
	"medagent/sensors/ads1292"
	"medagent/sensors/max3010x"
	"medagent/sensors/registry"
)

// Sensor entries: every problem the descriptor finds is reported at the
// sensor's key, with the file line.
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
	{"unknown option", "sensors:\n  - name: p\n    driver: max3010x\n    bus: sim\n    address: 0x57\n    options: {colour: red}\n", 13, "sensors[0].options.colour", "unknown key"},
	{"option type", "sensors:\n  - name: p\n    driver: max3010x\n    bus: sim\n    address: 0x57\n    options: {rollover: maybe}\n", 13, "sensors[0].options.rollover", "want true or false"},
	{"options of a part without", "sensors:\n  - name: o\n    driver: nonin\n    bus: sim\n    options: {x: 1}\n", 12, "sensors[0].options", "takes no options"},
	{"bad option", "sensors:\n  - name: t\n    driver: tmp117\n    bus: sim\n    address: 0x48\n    options:\n      averaging: 7\n", 14, "sensors[0].options.averaging", "not one of 1, 8, 32, 64"},
	{"nonin path", "sensors:\n  - {name: o, driver: nonin, bus: ttyUSB0}\n", 9, "sensors[0].bus", "absolute serial device path"},
	{"nonin baud", "sensors:\n  - name: o\n    driver: nonin\n    bus: /dev/ttyUSB0\n    serial: {baud: 19200, data_bits: 8, stop_bits: 1}\n", 12, "sensors[0].serial", "9600 baud 8N1"},
	{"serial key", "sensors:\n  - name: o\n    driver: nonin\n    bus: /dev/ttyUSB0\n    serial: {baud: 9600, databits: 8}\n", 12, "sensors[0].serial.databits", "unknown key"},
	{"serial on i2c", "sensors:\n  - name: t\n    driver: tmp117\n    bus: sim\n    address: 0x48\n    serial: {baud: 9600, data_bits: 8, stop_bits: 1}\n", 13, "sensors[0].serial", "only for serial drivers"},
	{"nonin sim framing", "sensors:\n  - name: o\n    driver: nonin\n    bus: sim\n    serial: {baud: 9600, data_bits: 8, stop_bits: 1}\n", 12, "sensors[0].serial", "fixed framing"},
	{"generator gone", "sensors:\n  - {name: t, driver: sim-temp, rate: 1, bus: sim}\n", 9, "sensors[0].driver", "real driver on bus sim"},
	{"unknown driver", "sensors:\n  - {name: t, driver: tmp116, bus: sim}\n", 9, "sensors[0].driver", "known: ads1292 (ads1292r), max3010x"},
	{"tmp117 rate", "sensors:\n  - {name: t, driver: tmp117, bus: sim, address: 0x48, rate: 3}\n", 9, "sensors[0].rate", "no TMP117 conversion cycle"},
	{"stuck_after range", "sensors:\n  - name: t\n    driver: tmp117\n    bus: sim\n    address: 0x48\n    stuck_after: 1ms\n", 13, "sensors[0].stuck_after", "must be"},
	{"channel range", "sensors:\n  - {name: ecg, driver: ads1292, bus: sim, drdy: 'sim:ads-drdy', spi_mode: 1, options: {channel: 3}}\n", 9, "sensors[0].options.channel", "must be 1..2"},
	{"channel on i2c", "sensors:\n  - {name: t, driver: tmp117, bus: sim, address: 0x48, options: {channel: 1}}\n", 9, "sensors[0].options.channel", "unknown key"},
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

// Every real driver parses, aliases resolved, options decoded into the
// part's settings over its defaults, and resolves to what it delivers.
func TestSensorRealDrivers(t *testing.T) {
	cfg, err := Parse("m.yaml", []byte(minimal+`sensors:
  - {name: ecg, driver: ads1292, rate: 250, bus: /dev/spidev0.0, drdy: GPIO25, spi_mode: 1, options: {gain2: 3, lead_off: true, channel: 1}}
  - {name: ppg, driver: max3010x, rate: 100, bus: "1", address: 0x57, drdy: GPIO17, options: {averaging: 4}}
  - {name: temp, driver: tmp117, rate: 1, bus: /dev/i2c-1, address: 0x49, stuck_after: 5m}
  - {name: oxi, driver: nonin, bus: /dev/ttyUSB0}
  - {name: oxisim, driver: nonin, bus: sim}
`))
	if err != nil {
		t.Fatal(err)
	}
	var rates []float64
	for i, s := range cfg.Sensors {
		src, err := registry.Resolve(s)
		if err != nil {
			t.Fatalf("sensors[%d]: %v", i, err)
		}
		rates = append(rates, src.Rate)
	}
	if want := []float64{250, 25, 1, 75, 75}; !slices.Equal(rates, want) {
		t.Errorf("delivered rates %v, want %v (the PPG's averaged by 4)", rates, want)
	}
	ecg, ok := cfg.Sensors[0].Settings.(*ads1292.Settings)
	if want := (ads1292.Settings{Channel: 1, Gain1: 6, Gain2: 3, VREF: "2.42", LeadOff: true}); !ok || *ecg != want {
		t.Errorf("ecg options = %+v, want %+v (defaults kept)", cfg.Sensors[0].Settings, want)
	}
	if ppg, ok := cfg.Sensors[1].Settings.(*max3010x.Settings); !ok || ppg.Averaging != 4 || ppg.Mode != "spo2" {
		t.Errorf("ppg options = %+v", cfg.Sensors[1].Settings)
	}
	if cfg.Sensors[2].StuckAfter != 5*time.Minute || cfg.Sensors[2].Settings != nil {
		t.Errorf("temp = %+v, want stuck_after 5m and no options (the part's defaults)", cfg.Sensors[2])
	}
}

// The default sensors run the real drivers on the simulators.
func TestDefaultSensorsAreRealDriversOnSim(t *testing.T) {
	for i, s := range Default().Sensors {
		if s.Bus != sensors.SimBus {
			t.Errorf("default sensors[%d] = %+v, want a real driver on bus sim", i, s)
		}
		if _, err := registry.Resolve(s); err != nil {
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
			if _, err := registry.Resolve(s); err != nil {
				t.Fatalf("accepted sensors[%d] that its descriptor refuses: %v", i, err)
			}
		}
	})
}
