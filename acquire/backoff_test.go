package acquire

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"medagent/hal/buserr"
)

// The reopen delay doubles from backoffMin to backoffMax on consecutive
// failures, one event per condition change, and returns to backoffMin
// only after healthyAfter of fault-free reads.
func TestReopenBackoff(t *testing.T) {
	var now time.Duration
	sp := &fakeSpool{}
	s := &sampler{name: "ppg", events: sp, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		now: time.Now, mono: func() time.Duration { return now }, backoffMin: backoffMin, backoffMax: backoffMax}
	s.f.init(s)
	ctx := context.Background()
	nack := errors.Join(errors.New("max3010x: read FIFO pointers"), buserr.ErrNACK)
	var got []time.Duration
	for range 8 {
		got = append(got, s.f.failed(ctx, nack))
	}
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second,
		4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("waits %v, want %v", got, want)
		}
	}
	if evs := sp.events("ppg"); len(evs) != 1 || evs[0].cond != condNACK || evs[0].state != "active" {
		t.Fatalf("events %+v, want one nack active", evs)
	}
	s.f.opened(ctx)
	s.f.healthy(ctx, now)
	now += clearAfter
	s.f.healthy(ctx, now)
	if e, ok := find(sp.events("ppg"), condNACK, "cleared"); !ok || e.nums["event/reopens"] != 8 {
		t.Fatalf("events %+v, want nack cleared after 8 reopen attempts", sp.events("ppg"))
	}
	// A fault before healthyAfter keeps the backoff where it was.
	if w := s.f.failed(ctx, nack); w != backoffMax {
		t.Fatalf("wait after a short healthy run = %v, want %v", w, backoffMax)
	}
	s.f.healthy(ctx, now)
	now += healthyAfter
	s.f.healthy(ctx, now)
	if w := s.f.failed(ctx, nack); w != backoffMin {
		t.Fatalf("wait after %v healthy = %v, want %v", healthyAfter, w, backoffMin)
	}
}
