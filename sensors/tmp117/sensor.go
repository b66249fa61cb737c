package tmp117

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"medagent/hal/buserr"
	"medagent/sensors"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// Descriptor is the TMP117 as a sensor of the agent: body temperature in
// °C on I²C (0x48..0x4b), read once per conversion cycle.
var Descriptor = sensors.Descriptor{
	Name: "tmp117",
	Link: sensors.Link{Bus: sensors.I2C, Addr: [2]uint16{0x48, 0x4b}, DRDY: sensors.OptionalLine},
	// A thermally stable patient can repeat a 7.8 m°C code for minutes.
	StuckAfter:  10 * time.Minute,
	NewSettings: func() sensors.Settings { return &Settings{Mode: "continuous", Averaging: 8} },
	Source:      source,
}

// Settings are the options: of a TMP117 entry.
type Settings struct {
	// Mode is continuous or oneshot (the part idles in shutdown between
	// reads).
	Mode string `yaml:"mode"`
	// Averaging is the number of conversions averaged: 1, 8, 32 or 64.
	Averaging int `yaml:"averaging"`
	// OffsetMK, when set, is written to the volatile offset register,
	// in m°C; unset leaves the part's.
	OffsetMK *int `yaml:"offset_mk"`
}

var averagings = map[int]Averaging{1: Avg1, 8: Avg8, 32: Avg32, 64: Avg64}

// Check validates the options.
func (s *Settings) Check() error {
	if s.Mode != "continuous" && s.Mode != "oneshot" {
		return sensors.Bad("mode", "%q not one of continuous, oneshot", s.Mode)
	}
	if _, ok := averagings[s.Averaging]; !ok {
		return sensors.Bad("averaging", "%d not one of 1, 8, 32, 64", s.Averaging)
	}
	if s.OffsetMK != nil && (*s.OffsetMK < -256000000 || *s.OffsetMK > 256000000) {
		return sensors.Bad("offset_mk", "%d not in -256000000..256000000", *s.OffsetMK)
	}
	return nil
}

// source picks CONV[2:0] for the rate and averaging: rate 0 keeps 1/s.
func source(c sensors.Config) (sensors.Source, error) {
	s := c.Settings.(*Settings)
	avg := averagings[s.Averaging]
	o := Opts{Avg: &avg, Mode: Continuous}
	if s.Mode == "oneshot" {
		o.Mode = OneShot
	}
	rate := c.Rate
	if rate == 0 {
		rate = 1
	}
	if rate > 64.5 {
		return sensors.Source{}, sensors.Bad("rate", "%v above the TMP117's 64.5 conversions/s", rate)
	}
	want := time.Duration(float64(time.Second) / rate)
	conv := slices.IndexFunc([]uint8{0, 1, 2, 3, 4, 5, 6, 7}, func(conv uint8) bool {
		return math.Abs(float64(CycleTime(conv, avg)-want)) <= 0.01*float64(want)
	})
	if conv < 0 {
		return sensors.Source{}, sensors.Bad("rate", "%v/s is no TMP117 conversion cycle with averaging %d", rate, s.Averaging)
	}
	cv := uint8(conv)
	o.Conv = &cv
	if s.OffsetMK != nil {
		off := physic.Temperature(*s.OffsetMK) * physic.MilliKelvin
		o.Offset = &off
	}
	stuck := max(2, int(c.StuckAfter.Seconds()*rate))
	return sensors.Source{
		Kind:    sensors.Temp,
		Streams: []sensors.Stream{{Name: "body", Unit: "Cel", MDC: sensors.MDCTempBody}},
		Rate:    rate,
		Loss:    sensors.LossFrames,
		Open: func(b sensors.Buses) (sensors.Device, error) {
			return open(c, o, stuck, b)
		},
	}, nil
}

func open(c sensors.Config, o Opts, stuck int, b sensors.Buses) (sensors.Device, error) {
	bus, err := b.I2C(c.Bus)
	if err != nil {
		return nil, err
	}
	if c.DRDY != "" {
		if o.AlertPin, err = b.Pin(c.DRDY, gpio.PullUp, gpio.FallingEdge); err != nil {
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
		period: d.Period(), stuck: stuck, oneShot: o.Mode == OneShot}, nil
}

// device reads the TMP117 once per conversion: in continuous mode when
// the data-ready flag says a new result is there (so no result is read
// twice or skipped), in one-shot mode once per cycle. No new result for
// three cycles is a timeout.
type device struct {
	d       *Dev
	close   func() error
	period  time.Duration
	oneShot bool
	last    time.Duration
	have    bool
	s       Status
	t       physic.Temperature
	stuck   int
	// One-shot: a conversion was started and is due at due.
	pending bool
	due     time.Duration
}

// resetValue is the result register's power-on value (0x8000, -256 °C):
// no conversion has finished yet.
const resetValue = physic.ZeroCelsius - 256*physic.Kelvin

func (t *device) Read(b []sensors.Block, now time.Duration) (sensors.Status, error) {
	if t.oneShot {
		return t.readOneShot(b, now)
	}
	if !t.have {
		t.last, t.have = now, true
	}
	if err := t.d.ReadStatus(&t.s); err != nil {
		return sensors.Status{}, err
	}
	if !t.s.DataReady {
		if now-t.last > 3*t.period {
			return sensors.Status{}, fmt.Errorf("tmp117: no conversion for %s: %w", now-t.last, buserr.ErrTimeout)
		}
		return sensors.Status{}, nil
	}
	t.last = now
	if err := t.d.Sense(&t.t); err != nil {
		return sensors.Status{}, err
	}
	b[0].Append(float64(t.t-physic.ZeroCelsius)/float64(physic.Kelvin), t.t != resetValue)
	return sensors.Status{Stuck: t.d.Repeats() >= t.stuck}, nil
}

// readOneShot never waits for a conversion (which takes up to a whole
// period with 64 averages): it starts one a period, on a fixed schedule,
// and reads the result on a later call once the part says it is ready. So
// the sampling loop is never held, and a result is read as soon as it is
// there, as in continuous mode, not a conversion time after its read began.
func (t *device) readOneShot(b []sensors.Block, now time.Duration) (sensors.Status, error) {
	var st sensors.Status
	if !t.have {
		t.last, t.have = now-t.period, true // the first conversion now
	}
	if t.pending {
		if now < t.due {
			return st, nil
		}
		if err := t.d.ReadStatus(&t.s); err != nil {
			return st, err
		}
		if !t.s.DataReady {
			if now-t.due > 2*t.period {
				return st, fmt.Errorf("tmp117: one-shot conversion not done %s after it was due: %w", now-t.due, buserr.ErrTimeout)
			}
			return st, nil
		}
		t.pending = false
		if err := t.d.Result(&t.t); err != nil {
			return st, err
		}
		b[0].Append(float64(t.t-physic.ZeroCelsius)/float64(physic.Kelvin), t.t != resetValue)
		st.Stuck = t.d.Repeats() >= t.stuck
	}
	if !t.pending && now-t.last >= t.period {
		// One conversion a period: a call that comes a tick after the
		// period must not push the next one later, or the part delivers
		// fewer results than its rate.
		t.last += t.period
		if now-t.last >= t.period {
			t.last = now // a stall: start the schedule afresh
		}
		conv, err := t.d.StartConversion()
		if err != nil {
			return st, err
		}
		t.pending, t.due = true, now+conv
	}
	return st, nil
}

func (t *device) Close() error { return t.close() }
