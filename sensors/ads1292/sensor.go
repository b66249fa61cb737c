package ads1292

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"medagent/sensors"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// Descriptor is the ADS1292R as a sensor of the agent: ECG lead II in mV
// on SPI (mode 1, at most 20 MHz), read frame by frame on DRDY.
var Descriptor = sensors.Descriptor{
	Name:    "ads1292",
	Aliases: []string{"ads1292r"},
	Link:    sensors.Link{Bus: sensors.SPI, SPIMode: 1, SPIMaxHz: 20000000, DRDY: sensors.RequiredLine},
	// A working ECG front end never repeats its 24-bit codes for a second.
	StuckAfter: time.Second,
	NewSettings: func() sensors.Settings {
		return &Settings{Channel: 2, Gain1: 6, Gain2: 6, VREF: "2.42"}
	},
	Source: source,
}

// Settings are the options: of an ADS1292R entry.
type Settings struct {
	// Channel is the input that carries lead II: 1 or 2 (channel 1 is
	// the ADS1292R's respiration input).
	Channel int `yaml:"channel"`
	// Gain1 and Gain2 are the PGA gains: 1, 2, 3, 4, 6, 8 or 12.
	Gain1 int `yaml:"gain1"`
	Gain2 int `yaml:"gain2"`
	// VREF is the reference: 2.42 or 4.033 (needs a 5 V analog supply).
	VREF string `yaml:"vref"`
	// LeadOff enables DC lead-off detection; a lead off makes the
	// samples invalid.
	LeadOff bool `yaml:"lead_off"`
	// RLD enables the right-leg drive.
	RLD bool `yaml:"rld"`
	// Respiration enables respiration demodulation on channel 1.
	Respiration bool `yaml:"respiration"`
}

// Check validates the options.
func (s *Settings) Check() error {
	if s.Channel != 1 && s.Channel != 2 {
		return sensors.Bad("channel", "must be 1..2, got %d", s.Channel)
	}
	for _, g := range []struct {
		key string
		v   int
	}{{"gain1", s.Gain1}, {"gain2", s.Gain2}} {
		if !slices.Contains(Gains[:], g.v) {
			return sensors.Bad(g.key, "%d not one of 1, 2, 3, 4, 6, 8, 12", g.v)
		}
	}
	if s.VREF != "2.42" && s.VREF != "4.033" {
		return sensors.Bad("vref", "%q not one of 2.42, 4.033", s.VREF)
	}
	return nil
}

func source(c sensors.Config) (sensors.Source, error) {
	s := c.Settings.(*Settings)
	rate := c.Rate
	if rate == 0 {
		rate = 500
	}
	if !slices.Contains(Rates[:], int(rate)) || float64(int(rate)) != rate {
		return sensors.Source{}, sensors.Bad("rate", "%v not one of 125, 250, 500, 1000, 2000, 4000, 8000", rate)
	}
	o := Opts{
		Rate:        int(rate),
		Gain:        [2]int{s.Gain1, s.Gain2},
		VREF4V:      s.VREF == "4.033",
		LeadOff:     s.LeadOff,
		RLD:         s.RLD,
		Respiration: s.Respiration,
		Speed:       physic.Frequency(c.SPIMaxHz) * physic.Hertz,
	}
	stuck := max(2, int(c.StuckAfter.Seconds()*rate))
	return sensors.Source{
		Kind:    sensors.ECG,
		Streams: []sensors.Stream{{Name: "II", Unit: "mV", MDC: sensors.MDCECGLeadII}},
		Rate:    rate,
		Paced:   true,
		Loss:    sensors.LossFrames,
		Open: func(b sensors.Buses) (sensors.Device, error) {
			return open(c, o, s.Channel-1, stuck, b)
		},
	}, nil
}

// readTick is how many frames a Read takes at most: about one sampler
// tick's worth.
const readTick = 40 * time.Millisecond

func open(c sensors.Config, o Opts, ch, stuck int, b sensors.Buses) (sensors.Device, error) {
	port, err := b.SPI(c.Bus, spi.Mode(c.SPIMode), physic.Frequency(c.SPIMaxHz)*physic.Hertz)
	if err != nil {
		return nil, err
	}
	if o.DRDY, err = b.Pin(c.DRDY, gpio.PullUp, gpio.FallingEdge); err != nil {
		port.Close()
		return nil, fmt.Errorf("drdy: %w", err)
	}
	o.Clock = b.Clock
	d, err := New(port, &o)
	if err != nil {
		port.Close()
		return nil, err
	}
	return &device{d: d, close: func() error { return errors.Join(d.Halt(), port.Close()) },
		want: max(1, int(float64(o.Rate)*readTick.Seconds())), stuck: stuck, ch: ch}, nil
}

// device reads an ADS1292R frame by frame on DRDY; lead II is on input
// ch+1. A lead-off status makes the sample invalid.
type device struct {
	d     *Dev
	close func() error
	f     Frame
	want  int
	stuck int
	ch    int
	prev  int32
	have  bool
	rep   int
}

func (a *device) Read(b []sensors.Block, _ time.Duration) (sensors.Status, error) {
	var st sensors.Status
	for range a.want {
		if err := a.d.Read(&a.f); err != nil {
			return st, err
		}
		sensors.AppendInvalid(b, a.f.Lost)
		st.Lost += a.f.Lost
		b[0].Append(a.f.MV[a.ch], a.f.LeadOff == 0)
		// Count repeats of the lead II channel only: the driver's
		// Repeats needs both channels frozen.
		if a.have && a.f.Raw[a.ch] == a.prev {
			a.rep++
		} else {
			a.rep = 0
		}
		a.prev, a.have = a.f.Raw[a.ch], true
	}
	st.Stuck = a.rep >= a.stuck
	return st, nil
}

func (a *device) Close() error { return a.close() }
