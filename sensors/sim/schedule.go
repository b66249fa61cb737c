package sim

// segment is one scheduled transition of a set point: from v0 at t0 to v1
// at t1 (seconds), linear in between, v1 afterwards.
type segment struct {
	t0, t1 float64
	v0, v1 float64
}

// track is a set point over time: the initial value, then the segments of
// the Changes that touch it, in order. A change that starts while the
// previous ramp runs starts from where that ramp has got to.
type track struct {
	initial float64
	segs    []segment
}

func newTrack(initial float64, changes []Change, pick func(Change) float64) track {
	tr := track{initial: initial}
	for _, c := range changes {
		v := pick(c)
		if v == 0 {
			continue
		}
		t0 := c.At.Seconds()
		tr.segs = append(tr.segs, segment{t0: t0, t1: t0 + c.Ramp.Seconds(), v0: tr.at(t0), v1: v})
	}
	return tr
}

// at returns the set point at t seconds.
func (tr *track) at(t float64) float64 {
	i := -1
	for j := range tr.segs {
		if tr.segs[j].t0 > t {
			break
		}
		i = j
	}
	return tr.value(i, t)
}

func (tr *track) value(i int, t float64) float64 {
	if i < 0 {
		return tr.initial
	}
	s := &tr.segs[i]
	if t >= s.t1 {
		return s.v1
	}
	return s.v0 + (s.v1-s.v0)*(t-s.t0)/(s.t1-s.t0)
}

// max returns the largest value the set point ever takes.
func (tr *track) max() float64 {
	m := tr.initial
	for _, s := range tr.segs {
		m = max(m, s.v1)
	}
	return m
}

// cursor evaluates a track at non-decreasing times in amortised O(1).
type cursor struct {
	tr *track
	i  int // last segment with t0 <= t, -1 before the first
}

func (tr *track) cursor() cursor { return cursor{tr: tr, i: -1} }

func (c *cursor) at(t float64) float64 {
	for c.i+1 < len(c.tr.segs) && c.tr.segs[c.i+1].t0 <= t {
		c.i++
	}
	return c.tr.value(c.i, t)
}

// min returns the smallest value the set point ever takes.
func (tr *track) min() float64 {
	m := tr.initial
	for _, s := range tr.segs {
		m = min(m, s.v1)
	}
	return m
}
