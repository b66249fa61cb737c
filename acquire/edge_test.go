package acquire

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"medagent/config"
	"medagent/edge/pipeline"
	"medagent/telemetry"
)

// stallSpool is a fakeSpool whose Append blocks once, for stall, on the
// first pack at or after from (the edge goroutine is held up).
type stallSpool struct {
	fakeSpool
	mu      sync.Mutex
	from    time.Time
	stall   time.Duration
	stalled bool
}

func (s *stallSpool) Append(ctx context.Context, class telemetry.Class, stream string, t time.Time, payload []byte) (uint64, error) {
	s.mu.Lock()
	hold := !s.stalled && !s.from.IsZero() && !t.Before(s.from) && class == telemetry.ClassTelemetry
	if hold {
		s.stalled = true
	}
	s.mu.Unlock()
	if hold {
		time.Sleep(s.stall)
	}
	return s.fakeSpool.Append(ctx, class, stream, t, payload)
}

// edgeRig runs an edge stage with one 500 Hz ECG fed 20-sample frames
// every 40 ms, for d of the bubble's time.
func edgeRig(t *testing.T, sp Appender, wall func() time.Time, d time.Duration) *edge {
	t.Helper()
	p, err := pipeline.New(pipeline.Config{Window: time.Second, MainsHz: 50, Alarms: config.Default().Alarms},
		[]pipeline.Sensor{{Name: "ecg", Kind: pipeline.ECG, Rate: 500, Streams: []pipeline.Stream{{Unit: "mV", MDC: "MDC_ECG_ELEC_POTL_II"}}}})
	if err != nil {
		t.Fatal(err)
	}
	tb := newTimebase(wall)
	in := make(chan frame, frameQueue)
	e := newEdge(time.Second, p, []string{"ecg"}, in, sp, slog.New(slog.NewTextHandler(io.Discard, nil)), tb)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		tk := time.NewTicker(40 * time.Millisecond)
		defer tk.Stop()
		m := time.Duration(0)
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
			select {
			case in <- frame{sensor: "ecg", blocks: frameAt(m, 20, 500)}:
			default:
				t.Error("frame queue full")
			}
			m += 40 * time.Millisecond
		}
	}()
	time.Sleep(d)
	cancel()
	<-done
	<-fed
	return e
}

func telemetryPacks(f *fakeSpool) []telemetry.Pack {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []telemetry.Pack
	for _, p := range f.packs {
		if p.Class == telemetry.ClassTelemetry {
			out = append(out, p)
		}
	}
	return out
}

func lateFlag(p telemetry.Pack) bool {
	for _, r := range p.Records {
		if r.Name == "window/late" && r.Bool != nil && *r.Bool {
			return true
		}
	}
	return false
}

// TestEdgeNeverSkipsWindows holds the edge goroutine up for 3.5 s: the
// windows due meanwhile are still emitted, in order, flagged late; base
// times advance by exactly one window each; every window holds all its
// slots.
func TestEdgeNeverSkipsWindows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		sp := &stallSpool{from: start.Add(3 * time.Second), stall: 3500 * time.Millisecond}
		e := edgeRig(t, sp, time.Now, 12*time.Second+500*time.Millisecond)
		packs := telemetryPacks(&sp.fakeSpool)
		if len(packs) != 12 {
			t.Fatalf("%d windows in 12.5 s, want 12", len(packs))
		}
		late := 0
		for i, p := range packs {
			if i > 0 {
				if d := p.Time.Sub(packs[i-1].Time); d != time.Second {
					t.Errorf("window %d: base time %v after the previous one, want exactly 1s", i, d)
				}
			}
			if lateFlag(p) {
				late++
			}
		}
		if late < 2 || late > 4 {
			t.Errorf("%d windows flagged late after a 3.5 s stall, want 2..4", late)
		}
		// Window 1 starts at the first sample (0 s): every slot of 12 s.
		if s := e.lineStats()["ecg"]; s.Slots != 12*500 || s.Filled != 0 || s.Late != 0 {
			t.Errorf("line stats %+v; want 6000 slots, none filled or late", s)
		}
	})
}

// steppingWall is a wall clock that jumps: +5 s at 3 s, −2 s at 6 s.
func steppingWall(start time.Time) func() time.Time {
	return func() time.Time {
		d := time.Since(start)
		w := start.Round(0).Add(d)
		if d >= 3*time.Second {
			w = w.Add(5 * time.Second)
		}
		if d >= 6*time.Second {
			w = w.Add(-2 * time.Second)
		}
		return w
	}
}

// TestClockStepsPublished: the anchor is published, a forward step of
// the wall clock moves base times ahead once, a backward one is published
// and not applied: base times never go back.
func TestClockStepsPublished(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sp := &fakeSpool{}
		edgeRig(t, sp, steppingWall(time.Now()), 9*time.Second+500*time.Millisecond)
		var conds []string
		var applied []bool
		for _, p := range sp.packs {
			if p.Stream != clockStream {
				continue
			}
			for _, r := range p.Records {
				switch {
				case r.Name == "event/condition":
					conds = append(conds, r.String)
				case r.Name == "event/applied":
					applied = append(applied, *r.Bool)
				}
			}
		}
		if len(conds) != 3 || conds[0] != "clock_anchor" || conds[1] != "clock_step" || conds[2] != "clock_step" ||
			len(applied) != 2 || !applied[0] || applied[1] {
			t.Fatalf("clock events %v applied %v; want anchor, applied step, step not applied", conds, applied)
		}
		packs := telemetryPacks(sp)
		jumps := 0
		for i := 1; i < len(packs); i++ {
			switch d := packs[i].Time.Sub(packs[i-1].Time); {
			case d == time.Second:
			case d == 6*time.Second:
				jumps++
			default:
				t.Errorf("window %d: base time moved %v", i, d)
			}
		}
		if jumps != 1 {
			t.Errorf("%d forward jumps of base time, want 1", jumps)
		}
	})
}
