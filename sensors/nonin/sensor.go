package nonin

import (
	"time"

	"medagent/hal/spec"
	"medagent/sensors"
)

// Descriptor is a Nonin oximeter as a sensor of the agent: SpO2 and pulse
// rate as the oximeter computes them, repeated on every frame (75/s) and
// invalid while missing or while the oximeter flags a disconnected sensor
// or lost track, and its 8-bit pleth; Data Format #2 on a serial port at
// 9600 baud 8N1. The oximeter flags its own faults, so it is never taken
// as stuck.
var Descriptor = sensors.Descriptor{
	Name: "nonin",
	Link: sensors.Link{Bus: sensors.Serial,
		Framing: spec.SerialFraming{Baud: 9600, DataBits: 8, Parity: "none", StopBits: 1}},
	Source: source,
}

// readTimeout bounds a read of the port: 75 frames' worth.
const readTimeout = time.Second

func source(c sensors.Config) (sensors.Source, error) {
	if c.Rate != 0 && c.Rate != FramesPerSecond {
		return sensors.Source{}, sensors.Bad("rate", "%v, Nonin Data Format #2 sends 75 frames/s", c.Rate)
	}
	return sensors.Source{
		Kind: sensors.Oximeter,
		Streams: []sensors.Stream{
			{Name: "spo2", Unit: "%", MDC: sensors.MDCSpO2},
			{Name: "pr", Unit: "1/min", MDC: sensors.MDCPulseRate},
			{Name: "pleth", Unit: "1", MDC: sensors.MDCPleth},
		},
		Rate:  FramesPerSecond,
		Paced: true,
		Loss:  sensors.LossFrames,
		Open: func(b sensors.Buses) (sensors.Device, error) {
			p, err := b.Serial(c.Bus, c.Serial, readTimeout)
			if err != nil {
				return nil, err
			}
			return &device{d: New(p), close: p.Close, hr: HRMissing, spo2: SpO2Missing}, nil
		},
	}, nil
}

// readFrames is how many frames a Read takes: about one sampler tick's
// worth (40 ms).
const readFrames = 3

type device struct {
	d        *Dev
	close    func() error
	f        Frame
	hr, spo2 int
	bad      uint64
}

func (n *device) Read(b []sensors.Block, _ time.Duration) (st sensors.Status, err error) {
	defer func() {
		bad := n.d.Stats().BadChecksum
		st.Bad, n.bad = int(bad-n.bad), bad
	}()
	for range readFrames {
		var packet bool
		if packet, err = n.d.Read(&n.f); err != nil {
			return st, err
		}
		if packet {
			p := n.d.Packet()
			n.hr, n.spo2 = p.HR, p.SpO2
		}
		sensors.AppendInvalid(b, n.f.Lost)
		st.Lost += n.f.Lost
		ok := !n.f.Disconnected() && !n.f.OutOfTrack()
		b[0].Append(float64(n.spo2), ok && n.spo2 != SpO2Missing)
		b[1].Append(float64(n.hr), ok && n.hr != HRMissing)
		b[2].Append(float64(n.f.Pleth), ok)
	}
	return st, nil
}

func (n *device) Close() error { return n.close() }
