package acquire

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"medagent/sensors"
)

// silentSource opens devices that answer but deliver nothing while mute
// is set, and 100 samples/s otherwise.
type silentSource struct {
	mute  atomic.Bool
	opens atomic.Int32
}

func (s *silentSource) source() sensors.Source {
	return sensors.Source{Kind: sensors.Temp, Rate: 100, Loss: sensors.LossFrames,
		Streams: []sensors.Stream{{Name: "body", Unit: "Cel", MDC: sensors.MDCTempBody}},
		Open: func(sensors.Buses) (sensors.Device, error) {
			s.opens.Add(1)
			return &silentDevice{src: s}, nil
		}}
}

type silentDevice struct {
	src  *silentSource
	last time.Duration
}

func (d *silentDevice) Read(b []sensors.Block, now time.Duration) (sensors.Status, error) {
	if d.last == 0 {
		d.last = now
	}
	n := int((now - d.last).Seconds() * 100)
	d.last += time.Duration(n) * 10 * time.Millisecond
	if !d.src.mute.Load() {
		for range n {
			b[0].Append(37, true)
		}
	}
	return sensors.Status{}, nil
}

func (d *silentDevice) Close() error { return nil }

// A device that stops delivering samples without an error is a timeout:
// the event is spooled, the silence becomes invalid samples and the
// device is reopened.
func TestNoDataIsAFault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil, nil)
		src := &silentSource{}
		h.smp = append(h.smp, &sampler{name: "quiet", src: src.source(), events: h.spool, tick: sampleTick,
			log: h.smp0log(), now: time.Now, mono: h.mono, backoffMin: 20 * time.Millisecond, backoffMax: 200 * time.Millisecond})
		h.frames["quiet"] = &collected{}
		h.start()
		h.waitValid("quiet", 0, 2*time.Second)
		t0 := h.mono()
		src.mute.Store(true)
		h.waitEvent("quiet", condTimeout, "active", 3*time.Second)
		time.Sleep(300 * time.Millisecond)
		src.mute.Store(false)
		h.waitEvent("quiet", condTimeout, "cleared", 5*time.Second)
		t1 := h.mono()
		h.stop()
		if src.opens.Load() < 2 {
			t.Errorf("%d opens, want a reopen", src.opens.Load())
		}
		// The gap frame starts where the samples stopped: up to the gap
		// tolerance before t0.
		n, valid := h.got("quiet").between(t0-200*time.Millisecond, t1)
		if n-valid < 60 {
			t.Errorf("%d samples, %d valid in the ≥0.8 s of silence: want it as invalid samples", n, valid)
		}
	})
}
