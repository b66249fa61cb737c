package acquire

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"medagent/sensors"
)

// oneHzDevice delivers one sample a second (a TMP117 at its default
// conversion cycle), a second after it was opened and each second after.
type oneHzDevice struct{ next time.Duration }

func (d *oneHzDevice) Read(b []sensors.Block, now time.Duration) (sensors.Status, error) {
	if d.next == 0 {
		d.next = now + time.Second
	}
	if now >= d.next {
		d.next += time.Second
		b[0].Append(37, true)
	}
	return sensors.Status{}, nil
}

func (d *oneHzDevice) Close() error { return nil }

// A 1/s part opened at any phase of the edge stage's windows: each sample
// is stamped at its read, so it reaches the edge stage before the window
// holding its slot is cut (within edgeGrace), not a whole second late.
func TestSlowSampleStampedAtItsRead(t *testing.T) {
	for _, phase := range []time.Duration{100 * time.Millisecond, 500 * time.Millisecond, 900 * time.Millisecond} {
		synctest.Test(t, func(t *testing.T) {
			origin := time.Now().Add(-phase) // the windows' clock started before the part was opened
			mono := func() time.Duration { return time.Since(origin) }
			out := make(chan frame, frameQueue)
			src := sensors.Source{Kind: sensors.Temp, Rate: 1, Loss: sensors.LossFrames,
				Streams: []sensors.Stream{{Name: "body", Unit: "Cel", MDC: sensors.MDCTempBody}},
				Open:    func(sensors.Buses) (sensors.Device, error) { return &oneHzDevice{}, nil }}
			s := &sampler{name: "temp", src: src, out: out, events: &fakeSpool{}, tick: sampleTick,
				log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: time.Now, mono: mono,
				backoffMin: 20 * time.Millisecond, backoffMax: 200 * time.Millisecond}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); s.Run(ctx) }()
			n := 0
			for range 5 {
				f := <-out
				arrived := mono()
				slot := f.blocks[0].Mono + time.Duration(len(f.blocks[0].Samples)-1)*time.Second
				if late := arrived - slot; late < 0 || late >= edgeGrace {
					t.Errorf("phase %v: sample stamped at %v arrived at %v: %v after its slot (edgeGrace %v)", phase, slot, arrived, late, edgeGrace)
				}
				n++
				f.release()
			}
			cancel()
			<-done
			if n != 5 {
				t.Fatalf("phase %v: %d samples", phase, n)
			}
		})
	}
}
