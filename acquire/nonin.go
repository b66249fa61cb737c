package acquire

import (
	"context"
	"io"
	"time"

	"medagent/edge/pipeline"
	"medagent/hal/devices"
	"medagent/sensors"
	"medagent/sensors/nonin"
)

// noninSource reads a Nonin oximeter (Data Format #2) on a serial port:
// SpO2 and pulse rate as the oximeter computes them, repeated on every
// frame (75/s) and invalid while missing or while the oximeter flags a
// disconnected sensor or lost track, and its 8-bit pleth.
type noninSource struct{ *driverSource }

var oximeterStreams = []streamInfo{
	{"spo2", pipeline.Stream{Unit: "%", MDC: pipeline.MDCSpO2}},
	{"pr", pipeline.Stream{Unit: "1/min", MDC: pipeline.MDCPulseRate}},
	{"pleth", pipeline.Stream{Unit: "1", MDC: pipeline.MDCPleth}},
}

func newNoninSource(d *driverSource) (source, error) {
	d.k, d.st, d.pace, d.r = pipeline.Oximeter, oximeterStreams, true, nonin.FramesPerSecond
	if d.rig != nil && d.rig.Nonin != nil && d.sim != nil {
		d.h.Bus = d.rig.Nonin.Path()
	}
	return noninSource{d}, nil
}

// run drives the simulated oximeter (bus sim) for as long as the sampler
// runs; the sampler owns this goroutine.
func (n noninSource) run(ctx context.Context) error {
	if n.sim == nil || n.rig == nil || n.rig.Nonin == nil {
		return nil
	}
	return n.rig.Nonin.Run(ctx)
}

func (n noninSource) open() (device, error) {
	dev, c, err := devices.OpenNonin(n.h, 0)
	if err != nil {
		return nil, err
	}
	return &noninDevice{d: dev, c: c, want: max(1, int(n.r*sampleTick.Seconds())),
		hr: nonin.HRMissing, spo2: nonin.SpO2Missing}, nil
}

type noninDevice struct {
	d        *nonin.Dev
	c        io.Closer
	f        nonin.Frame
	want     int
	hr, spo2 int
	bad      uint64
}

func (n *noninDevice) read(b []sensors.Block, _ time.Duration) (st readStatus, err error) {
	defer func() {
		bad := n.d.Stats().BadChecksum
		st.bad, n.bad = int(bad-n.bad), bad
	}()
	for range n.want {
		var packet bool
		if packet, err = n.d.Read(&n.f); err != nil {
			return st, err
		}
		if packet {
			p := n.d.Packet()
			n.hr, n.spo2 = p.HR, p.SpO2
		}
		invalid(b, n.f.Lost)
		st.lost += n.f.Lost
		ok := !n.f.Disconnected() && !n.f.OutOfTrack()
		b[0].Append(float64(n.spo2), ok && n.spo2 != nonin.SpO2Missing)
		b[1].Append(float64(n.hr), ok && n.hr != nonin.HRMissing)
		b[2].Append(float64(n.f.Pleth), ok)
	}
	return st, nil
}

func (n *noninDevice) close() error { return n.c.Close() }
