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

// readFrames is how many frames a Read waits for: about one sampler
// tick's worth (40 ms).
const readFrames = 3

type device struct {
	d        *Dev
	close    func() error
	f        Frame
	hr, spo2 int
	bad      uint64
}

// Read waits for readFrames frames, then takes every whole frame the port
// delivered with them. The sampler stamps the samples of a read as ending
// when the read returns; a reader kept off the CPU finds frames queued in
// the tty, and taking only three of them would leave the rest behind the
// clock: the sampler took the difference for lost frames (invalid samples
// that were read) and then set the queued frames after that gap, ahead of
// their time. The Dev's read empties the tty's read buffer, so all of them
// come now and the last one arrived just before Read returned; while a
// port read brings a full tty buffer (~11 s late), the port may hold more,
// and Read reads on (the oximeter sends without pause, so a read waits at
// most a frame), up to maxBacklogReads reads (~3 min of frames). The
// pooled blocks grow to a backlog once.
func (n *device) Read(b []sensors.Block, _ time.Duration) (st sensors.Status, err error) {
	defer func() {
		bad := n.d.Stats().BadChecksum
		st.Bad, n.bad = int(bad-n.bad), bad
	}()
	reads := 0
	for i := 0; ; i++ {
		var ok, packet bool
		if i < readFrames {
			if packet, err = n.d.Read(&n.f); err != nil {
				return st, err
			}
		} else if ok, packet = n.d.Next(&n.f); !ok {
			if reads++; !n.d.Backlog() || reads >= maxBacklogReads {
				return st, nil
			}
			if packet, err = n.d.Read(&n.f); err != nil {
				return st, err
			}
		}
		n.add(b, packet, &st)
	}
}

// maxBacklogReads bounds the port reads of one Read: 16 of 4 KiB, ~3 min
// of frames, past the 30 s the edge stage holds for a sensor anyway.
const maxBacklogReads = 16

// add appends the frame in n.f (after the frames lost before it, invalid).
func (n *device) add(b []sensors.Block, packet bool, st *sensors.Status) {
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

func (n *device) Close() error { return n.close() }
