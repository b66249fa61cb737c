package max3010x

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"medagent/sensors"

	"periph.io/x/conn/v3/gpio"
)

// Descriptor is the MAX30101/MAX30102 as a sensor of the agent: red and
// IR photoplethysmogram in raw counts on I²C (0x57), its FIFO drained on
// every sampler tick.
var Descriptor = sensors.Descriptor{
	Name:    "max3010x",
	Aliases: []string{"max30101", "max30102"},
	Link:    sensors.Link{Bus: sensors.I2C, Addr: [2]uint16{Addr, Addr}, DRDY: sensors.OptionalLine},
	// A working photodiode never repeats its 18-bit codes for a second.
	StuckAfter: time.Second,
	NewSettings: func() sensors.Settings {
		return &Settings{Mode: "spo2", PulseWidth: 411, ADCRange: 4096, Averaging: 1}
	},
	Source: source,
}

// Settings are the options: of a MAX3010x entry.
type Settings struct {
	Mode       string `yaml:"mode"`        // hr, spo2 or multi
	PulseWidth int    `yaml:"pulse_width"` // µs: 69, 118, 215 or 411
	ADCRange   int    `yaml:"adc_range"`   // nA full scale: 2048, 4096, 8192 or 16384
	// Averaging is the samples averaged per FIFO entry: 1, 2, 4, 8, 16
	// or 32; the delivered rate is rate / averaging.
	Averaging int `yaml:"averaging"`
	// LED pulse amplitudes in 0.2 mA steps, 0..255; 0 takes 36 (7.2 mA)
	// for red and IR and leaves green off.
	LEDRed   int `yaml:"led_red"`
	LEDIR    int `yaml:"led_ir"`
	LEDGreen int `yaml:"led_green"`
	// Rollover lets new samples overwrite the oldest in a full FIFO;
	// otherwise the newest are dropped. Either way the loss is counted.
	Rollover bool `yaml:"rollover"`
}

// Check validates the options.
func (s *Settings) Check() error {
	if !slices.Contains([]string{"hr", "spo2", "multi"}, s.Mode) {
		return sensors.Bad("mode", "%q not one of hr, spo2, multi", s.Mode)
	}
	if !slices.Contains([]int{69, 118, 215, 411}, s.PulseWidth) {
		return sensors.Bad("pulse_width", "%d not one of 69, 118, 215, 411", s.PulseWidth)
	}
	if !slices.Contains(ADCRanges[:], s.ADCRange) {
		return sensors.Bad("adc_range", "%d not one of 2048, 4096, 8192, 16384", s.ADCRange)
	}
	if !slices.Contains(Averages[:6], s.Averaging) {
		return sensors.Bad("averaging", "%d not one of 1, 2, 4, 8, 16, 32", s.Averaging)
	}
	for _, l := range []struct {
		key string
		v   int
	}{{"led_red", s.LEDRed}, {"led_ir", s.LEDIR}, {"led_green", s.LEDGreen}} {
		if l.v < 0 || l.v > 255 {
			return sensors.Bad(l.key, "%d not in 0..255", l.v)
		}
	}
	return nil
}

func source(c sensors.Config) (sensors.Source, error) {
	s := c.Settings.(*Settings)
	rate := c.Rate
	if rate == 0 {
		rate = 100
	}
	if !slices.Contains(SampleRates[:], int(rate)) || float64(int(rate)) != rate {
		return sensors.Source{}, sensors.Bad("rate", "%v not one of 50, 100, 200, 400, 800, 1000, 1600, 3200", rate)
	}
	o := Opts{
		SampleRate: int(rate),
		PulseWidth: s.PulseWidth,
		ADCRange:   s.ADCRange,
		Averaging:  s.Averaging,
		Rollover:   s.Rollover,
		LEDCurrent: [3]uint8{uint8(s.LEDRed), uint8(s.LEDIR), uint8(s.LEDGreen)},
	}
	switch s.Mode {
	case "hr":
		o.Mode = HeartRate
	case "spo2":
		o.Mode = SpO2
	case "multi":
		o.Mode = MultiLED
		o.Slots = [4]LED{Red, IR}
		if c.Driver == "max30101" && s.LEDGreen != 0 {
			o.Slots[2] = Green
		}
	}
	if _, err := resolve(&o); err != nil {
		return sensors.Source{}, sensors.Bad("rate", "%v", err)
	}
	delivered := rate / float64(s.Averaging)
	stuck := max(2, int(c.StuckAfter.Seconds()*delivered))
	return sensors.Source{
		Kind: sensors.PPG,
		Streams: []sensors.Stream{
			{Name: "red", Unit: "1", MDC: sensors.MDCPlethRed},
			{Name: "ir", Unit: "1", MDC: sensors.MDCPlethIR},
		},
		Rate: delivered,
		Loss: sensors.LossOverflow,
		Open: func(b sensors.Buses) (sensors.Device, error) { return open(c, o, stuck, b) },
	}, nil
}

func open(c sensors.Config, o Opts, stuck int, b sensors.Buses) (sensors.Device, error) {
	bus, err := b.I2C(c.Bus)
	if err != nil {
		return nil, err
	}
	if c.DRDY != "" {
		if o.IntPin, err = b.Pin(c.DRDY, gpio.PullUp, gpio.FallingEdge); err != nil {
			bus.Close()
			return nil, fmt.Errorf("drdy: %w", err)
		}
	}
	d, err := New(bus, c.Address, &o)
	if err != nil {
		bus.Close()
		return nil, err
	}
	return &device{d: d, close: func() error { return errors.Join(d.Halt(), bus.Close()) },
		stuck: stuck, rollover: o.Rollover}, nil
}

// device drains the MAX3010x FIFO every tick.
type device struct {
	d        *Dev
	close    func() error
	buf      [FIFODepth]Sample
	stuck    int
	rollover bool
}

func (m *device) Read(b []sensors.Block, _ time.Duration) (sensors.Status, error) {
	var st sensors.Status
	for {
		n, lost, err := m.d.ReadFIFO(m.buf[:])
		if err != nil {
			return st, err
		}
		// With rollover the oldest entries were overwritten (lost before
		// these); without it the newest were dropped (lost after these).
		if m.rollover {
			lostAt(b, lost, &st)
		}
		for _, s := range m.buf[:n] {
			b[0].Append(float64(s.Red), true)
			b[1].Append(float64(s.IR), true)
		}
		if !m.rollover {
			lostAt(b, lost, &st)
		}
		if n < len(m.buf) {
			break
		}
	}
	st.Stuck = m.d.Repeats() >= m.stuck
	return st, nil
}

// lostAt appends the n samples the chip counted as lost; a count of
// OverflowMax means that many or more (the counter saturates), so the
// sampler places the rest by its clock at the same index.
func lostAt(b []sensors.Block, n int, st *sensors.Status) {
	sensors.AppendInvalid(b, n)
	st.Lost += n
	if n >= OverflowMax {
		st.Uncounted, st.UncountedAt = true, len(b[0].Samples)
	}
}

func (m *device) Close() error { return m.close() }
