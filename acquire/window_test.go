package acquire

import (
	"testing"
	"time"

	"medagent/sensors"
)

// frameAt is one frame of n valid samples of a one-stream sensor at rate,
// starting at monotonic time m.
func frameAt(m time.Duration, n int, rate float64) []sensors.Block {
	b := sensors.Block{Stream: "ecg.ii", Unit: "mV", Rate: rate, Mono: m}
	for range n {
		b.Append(1, true)
	}
	return []sensors.Block{b}
}

func countValid(b []sensors.Block) (n, valid int) {
	for _, v := range b[0].Valid {
		n++
		if v {
			valid++
		}
	}
	return n, valid
}

func at0(m time.Duration) time.Time { return time.Unix(1700000000, 0).Add(m) }

// TestLineWholeWindows: frames placed by their time; a frame that never
// came is invalid slots in its place; every window after the first holds
// exactly rate × W slots and starts at its first slot.
func TestLineWholeWindows(t *testing.T) {
	const rate = 500
	var l line
	m := 3 * time.Millisecond
	for i := range 150 { // 3 s of 20-sample frames (40 ms)
		if i != 60 { // frame 60 (2.403 s .. 2.443 s) was dropped
			l.add(frameAt(m, 20, rate))
		}
		m += 40 * time.Millisecond
	}
	b := l.cut(time.Second, at0)
	if n, v := countValid(b); n != 499 || v != 499 || b[0].Mono != 3*time.Millisecond {
		t.Fatalf("first window: %d slots, %d valid, from %v; want 499, 499 from 3ms", n, v, b[0].Mono)
	}
	for w := 2; w <= 3; w++ {
		b := l.cut(time.Duration(w)*time.Second, at0)
		n, v := countValid(b)
		wantValid := 500
		if w == 3 {
			wantValid = 480
		}
		start := time.Duration(w-1)*time.Second + time.Millisecond
		if n != 500 || v != wantValid || b[0].Mono != start || !b[0].Wall.Equal(at0(start)) {
			t.Fatalf("window %d: %d slots, %d valid, from %v (%v); want 500, %d from %v", w, n, v, b[0].Mono, b[0].Wall, wantValid, start)
		}
	}
	if s := l.stats(); s.Slots != 1499 || s.Filled != 0 || s.Late != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestLineLateSamples: slots missing when their window is cut go out
// invalid; the samples that come later are dropped and counted, and the
// next window is whole.
func TestLineLateSamples(t *testing.T) {
	const rate = 100
	var l line
	l.add(frameAt(0, 50, rate)) // 0 .. 0.49 s
	b := l.cut(time.Second, at0)
	if n, v := countValid(b); n != 100 || v != 50 {
		t.Fatalf("window 1: %d slots, %d valid; want 100, 50", n, v)
	}
	l.add(frameAt(500*time.Millisecond, 100, rate)) // 0.5 .. 1.49 s, half of it late
	b = l.cut(2*time.Second, at0)
	if n, v := countValid(b); n != 100 || v != 50 || b[0].Mono != time.Second {
		t.Fatalf("window 2: %d slots, %d valid from %v; want 100, 50 from 1s", n, v, b[0].Mono)
	}
	if s := l.stats(); s.Slots != 200 || s.Filled != 100 || s.Late != 50 {
		t.Fatalf("stats %+v; want 200 slots, 100 filled, 50 late", s)
	}
}
