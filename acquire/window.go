package acquire

import (
	"math"
	"time"

	"medagent/sensors"
)

// line is one sensor's samples on the time axis, waiting to be cut into
// the edge stage's windows. Slot i of the sensor is at monotonic time
// t0 + i/rate, t0 being its first sample. Frames are placed by their
// Mono time, not by when they arrive: a frame that never arrived (the
// sampler dropped it because the edge stage was behind) leaves invalid
// slots, and so do slots still missing when their window is cut (the
// sampler fell behind); samples that arrive after their window was cut
// are dropped and counted. So every window holds every slot of its time
// span, valid or not.
type line struct {
	rate    float64
	started bool
	t0      time.Duration
	next    int64           // first slot not yet cut
	tmpl    []sensors.Block // stream names, units and rate
	samples [][]float64     // per stream: slots next, next+1, ...
	valid   [][]bool

	slots, filled, late, dropped uint64
}

// maxPending bounds what a line holds, in seconds of samples: the edge
// stage cuts every window shortly after it ends, so only a sampler whose
// clock ran far ahead could fill it.
const maxPending = 30

// slotAt is the slot nearest to monotonic time m.
func (l *line) slotAt(m time.Duration) int64 { return int64(math.Round((m - l.t0).Seconds() * l.rate)) }

// slotTime is the monotonic time of slot i.
func (l *line) slotTime(i int64) time.Duration {
	return l.t0 + time.Duration(math.Round(float64(i)/l.rate*1e9))
}

// add places the samples of one frame.
func (l *line) add(blocks []sensors.Block) {
	if len(blocks) == 0 || blocks[0].Rate <= 0 || len(blocks[0].Samples) == 0 {
		return
	}
	if !l.started {
		l.started, l.rate, l.t0 = true, blocks[0].Rate, blocks[0].Mono
		for _, b := range blocks {
			l.tmpl = append(l.tmpl, sensors.Block{Stream: b.Stream, Unit: b.Unit, Rate: b.Rate})
		}
		l.samples, l.valid = make([][]float64, len(blocks)), make([][]bool, len(blocks))
	}
	if len(blocks) != len(l.samples) {
		return
	}
	end := l.next + int64(len(l.samples[0]))
	j := l.slotAt(blocks[0].Mono)
	n := int64(len(blocks[0].Samples))
	skip := int64(0)
	switch {
	case j > end:
		// A frame that never arrived: its slots are invalid.
		gap := min(j-end, int64(maxPending*l.rate))
		for i := range l.samples {
			l.samples[i] = append(l.samples[i], sensors.Lost(int(gap))...)
			l.valid[i] = append(l.valid[i], make([]bool, gap)...)
		}
	case j < end:
		// Slots already cut (late) or already here: keep the first.
		skip = min(end-j, n)
		l.late += uint64(skip)
	}
	room := int64(maxPending*l.rate) - int64(len(l.samples[0]))
	take := max(min(n-skip, room), 0)
	l.dropped += uint64(n - skip - take)
	for i, b := range blocks {
		l.samples[i] = append(l.samples[i], b.Samples[skip:skip+take]...)
		l.valid[i] = append(l.valid[i], b.Valid[skip:skip+take]...)
	}
}

// cut hands over the slots before monotonic time end, as one block per
// stream (nil when the sensor has none there); slots not here yet are
// invalid. at maps monotonic to base time.
func (l *line) cut(end time.Duration, at func(time.Duration) time.Time) []sensors.Block {
	if !l.started || end <= l.t0 {
		return nil
	}
	stop := int64(math.Ceil((end-l.t0).Seconds()*l.rate - 1e-6))
	n := stop - l.next
	if n <= 0 {
		return nil
	}
	have := min(int64(len(l.samples[0])), n)
	l.filled += uint64(n - have)
	l.slots += uint64(n)
	mono := l.slotTime(l.next)
	out := make([]sensors.Block, len(l.tmpl))
	for i, t := range l.tmpl {
		b := t
		b.Mono, b.Wall = mono, at(mono)
		b.Samples = sensors.Lost(int(n)) // slots not here yet
		b.Valid = make([]bool, n)
		copy(b.Samples, l.samples[i][:have])
		copy(b.Valid, l.valid[i][:have])
		out[i] = b
		rest := copy(l.samples[i], l.samples[i][have:])
		l.samples[i] = l.samples[i][:rest]
		rest = copy(l.valid[i], l.valid[i][have:])
		l.valid[i] = l.valid[i][:rest]
	}
	l.next = stop
	return out
}

// lineStats is what a sensor's line counted since the start.
type lineStats struct {
	// Slots is the number of sample slots handed to the pipeline; Filled
	// those handed over invalid because no sample had come in time.
	Slots, Filled uint64
	// Late counts samples that came after their window was cut (their
	// slots went out invalid); Dropped samples beyond the pending bound.
	Late, Dropped uint64
}

func (l *line) stats() lineStats {
	return lineStats{Slots: l.slots, Filled: l.filled, Late: l.late, Dropped: l.dropped}
}
