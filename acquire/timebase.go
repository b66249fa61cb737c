package acquire

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"medagent/telemetry"
)

// timebase is acquisition's one clock. Sample times, window bounds, pack
// and event times all come from CLOCK_MONOTONIC (the monotonic reading Go
// keeps in time.Now), anchored once to the wall clock when acquisition
// starts: base time = anchor + monotonic time since the start. So base
// times never go back and never jitter with the wall clock, and the
// receiver learns the mapping from the anchor event.
//
// The wall clock is compared with the axis at every window. A change of
// their offset by stepMin or more between two windows is a wall-clock
// step (NTP slews far slower: at most 0.5 ms/s), published as an event.
// A forward step of applyMin or more (the clock set at boot, say) moves
// the anchor forward, so base times jump ahead once; a backward step is
// published and not applied: base times never go back.
type timebase struct {
	origin time.Time        // time.Now() at the start: carries the monotonic reading
	wall   func() time.Time // the wall clock (Options.Now)
	// monoAt is CLOCK_MONOTONIC at origin, for the anchor event (lets a
	// receiver line base times up with kernel and journal times).
	monoAt time.Duration

	mu      sync.Mutex
	anchor  time.Time     // wall time of origin, moved forward by applied steps
	lastOff time.Duration // wall − axis at the last check
}

const (
	stepMin  = 50 * time.Millisecond
	applyMin = time.Second
)

func newTimebase(wall func() time.Time) *timebase {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	origin := time.Now()
	return &timebase{origin: origin, wall: wall, anchor: wall().Round(0), monoAt: time.Duration(ts.Nano())}
}

// mono is the monotonic time since the start.
func (tb *timebase) mono() time.Duration { return time.Since(tb.origin) }

// at is the base time of monotonic time m.
func (tb *timebase) at(m time.Duration) time.Time {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.anchor.Add(m)
}

// now is the base time now.
func (tb *timebase) now() time.Time { return tb.at(tb.mono()) }

// clockStep is a wall-clock step seen by checkStep.
type clockStep struct {
	at      time.Time     // base time when it was seen (after applying)
	step    time.Duration // how far the wall clock moved against the axis
	offset  time.Duration // wall − base time after the step (0 when applied)
	applied bool
}

// checkStep compares the wall clock with the axis; ok is true when it
// stepped since the last check.
func (tb *timebase) checkStep() (clockStep, bool) {
	m := tb.mono()
	w := tb.wall().Round(0)
	tb.mu.Lock()
	defer tb.mu.Unlock()
	off := w.Sub(tb.anchor.Add(m))
	d := off - tb.lastOff
	tb.lastOff = off
	if d > -stepMin && d < stepMin {
		return clockStep{}, false
	}
	s := clockStep{step: d}
	if d >= applyMin {
		tb.anchor = tb.anchor.Add(d)
		off -= d
		tb.lastOff = off
		s.applied = true
	}
	s.at, s.offset = tb.anchor.Add(m), off
	return s, true
}

// clockStream is the event stream of the anchor and of wall-clock steps.
const clockStream = "clock"

// anchorPack is the event published when acquisition starts: its base
// time is the anchor (monotonic time 0 of the axis).
func (tb *timebase) anchorPack() telemetry.Pack {
	return telemetry.Pack{Stream: clockStream, Class: telemetry.ClassEvent, Time: tb.at(0), Records: []telemetry.Record{
		{Name: "event/condition", String: "clock_anchor"},
		{Name: "event/clock", String: "CLOCK_MONOTONIC"},
		{Name: "event/monotonic", Unit: "s", Value: telemetry.V(tb.monoAt.Seconds())},
	}}
}

func (s clockStep) pack() telemetry.Pack {
	return telemetry.Pack{Stream: clockStream, Class: telemetry.ClassEvent, Time: s.at, Records: []telemetry.Record{
		{Name: "event/condition", String: "clock_step"},
		{Name: "event/step", Unit: "s", Value: telemetry.V(s.step.Seconds())},
		{Name: "event/offset", Unit: "s", Value: telemetry.V(s.offset.Seconds())},
		{Name: "event/applied", Bool: telemetry.B(s.applied)},
	}}
}
