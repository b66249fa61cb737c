package sim

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// FaultKind is a kind of sensor fault a stream can be told to show.
type FaultKind uint8

// Fault kinds, lowest precedence first: where faults overlap, the one with
// the highest value wins.
const (
	// Stuck repeats the last valid value from before the fault while
	// Valid stays true: the stream looks healthy and only a plausibility
	// check downstream catches it.
	Stuck FaultKind = iota + 1
	// Dropout loses samples: value 0, Valid false.
	Dropout
	// LeadOff detaches the sensor: an ECG electrode comes off (the signal
	// sits at the rail) or a PPG probe leaves the finger (ambient light
	// only). Valid is false and the stream's LeadOff/ProbeOff flag is set.
	LeadOff
)

func (k FaultKind) String() string {
	switch k {
	case Stuck:
		return "stuck"
	case Dropout:
		return "dropout"
	case LeadOff:
		return "lead-off"
	}
	return fmt.Sprintf("FaultKind(%d)", uint8(k))
}

// Fault is one scheduled fault: Kind from At for For, measured from the
// stream's first sample. Sample i is affected when At <= i/Rate < At+For.
type Fault struct {
	Kind FaultKind
	At   time.Duration
	For  time.Duration
}

// RandomFaults draws faults from the seed as a Poisson process.
type RandomFaults struct {
	// PerHour is the mean number of faults per hour, 0–3600 (0: none).
	PerHour float64
	// MeanFor is the mean fault length (exponential, clamped to a tenth
	// and ten times the mean); 0 means 5 s. At most 1 h.
	MeanFor time.Duration
	// Kinds are drawn uniformly; nil means every kind the stream supports.
	Kinds []FaultKind
}

const maxFaults = 1000

// span is a fault in sample indices: [start, end).
type span struct {
	start, end int64
	kind       FaultKind
}

func toSpan(f Fault, rate float64) span {
	return span{start: sampleAt(f.At.Seconds(), rate), end: sampleAt((f.At + f.For).Seconds(), rate), kind: f.Kind}
}

// sampleAt is the first sample index whose time is at or after t seconds.
// The 1e-6 sample slack absorbs rounding of t*rate.
func sampleAt(t, rate float64) int64 {
	return int64(math.Ceil(t*rate - 1e-6))
}

func validateFaults(stream string, faults []Fault, rnd *RandomFaults, allowed []FaultKind) error {
	if len(faults) > maxFaults {
		return fmt.Errorf("sim: %s.Faults has %d entries, at most %d allowed: %w", stream, len(faults), maxFaults, ErrOption)
	}
	for i, f := range faults {
		name := fmt.Sprintf("%s.Faults[%d]", stream, i)
		if !slices.Contains(allowed, f.Kind) {
			return fmt.Errorf("sim: %s.Kind = %v, allowed %v: %w", name, f.Kind, allowed, ErrOption)
		}
		if f.At < 0 {
			return fmt.Errorf("sim: %s.At = %v is negative: %w", name, f.At, ErrOption)
		}
		if f.For <= 0 {
			return fmt.Errorf("sim: %s.For = %v, must be positive: %w", name, f.For, ErrOption)
		}
		if f.At+f.For < f.At {
			return fmt.Errorf("sim: %s.At+For overflows: %w", name, ErrOption)
		}
	}
	if err := inRange(stream+".Random.PerHour", rnd.PerHour, "/h", 0, 3600); err != nil {
		return err
	}
	if rnd.MeanFor < 0 || rnd.MeanFor > time.Hour {
		return fmt.Errorf("sim: %s.Random.MeanFor = %v, allowed 0 to 1h: %w", stream, rnd.MeanFor, ErrOption)
	}
	if len(rnd.Kinds) > 16 {
		return fmt.Errorf("sim: %s.Random.Kinds has %d entries, at most 16 allowed: %w", stream, len(rnd.Kinds), ErrOption)
	}
	for i, k := range rnd.Kinds {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("sim: %s.Random.Kinds[%d] = %v, allowed %v: %w", stream, i, k, allowed, ErrOption)
		}
	}
	return nil
}

// randFaults generates the random faults of one stream, in time order.
type randFaults struct {
	r     rng
	perS  float64 // faults per second
	mean  float64 // mean length, s
	kinds []FaultKind
	t     float64 // end of the last fault, s
}

func newRandFaults(seed int64, stream string, o RandomFaults, allowed []FaultKind) randFaults {
	g := randFaults{r: newRNG(seed, stream+"/faults"), perS: o.PerHour / 3600, mean: o.MeanFor.Seconds(), kinds: slices.Clone(o.Kinds)}
	if g.mean == 0 {
		g.mean = 5
	}
	if len(g.kinds) == 0 {
		g.kinds = slices.Clone(allowed)
	}
	return g
}

func (g *randFaults) next() Fault {
	if g.perS == 0 {
		return Fault{At: math.MaxInt64}
	}
	start := g.t + g.r.exp()/g.perS
	d := min(max(g.mean*g.r.exp(), g.mean/10), g.mean*10)
	k := g.kinds[min(int(g.r.float()*float64(len(g.kinds))), len(g.kinds)-1)]
	g.t = start + d
	if start > float64(math.MaxInt64)/2e9 {
		return Fault{At: math.MaxInt64}
	}
	return Fault{Kind: k, At: seconds(start), For: max(seconds(d), 1)}
}

// faults answers, per sample, which fault (if any) the stream shows.
type faults struct {
	rate  float64
	sched []span
	rnd   randFaults
	cur   span // current or next random fault
	plan  randFaults
	fixed []Fault
}

func newFaults(seed int64, stream string, rate float64, fs []Fault, o RandomFaults, allowed []FaultKind) faults {
	f := faults{rate: rate, rnd: newRandFaults(seed, stream, o, allowed), fixed: slices.Clone(fs)}
	f.plan = f.rnd // a copy of the generator's initial state, for list
	for _, x := range fs {
		f.sched = append(f.sched, toSpan(x, rate))
	}
	f.cur = f.nextRandom()
	return f
}

func (f *faults) nextRandom() span {
	x := f.rnd.next()
	if x.At == math.MaxInt64 {
		return span{start: math.MaxInt64, end: math.MaxInt64}
	}
	// A fault shorter than a sample period may cover no sample at all;
	// list reports it all the same, and the stream shows nothing.
	return toSpan(x, f.rate)
}

// at returns the fault shown at sample i (0: none) and whether a Stuck
// fault covers it, shown or not. Calls must come with non-decreasing i.
func (f *faults) at(i int64) (kind FaultKind, frozen bool) {
	for i >= f.cur.end {
		f.cur = f.nextRandom()
	}
	if i >= f.cur.start {
		kind = f.cur.kind
		frozen = kind == Stuck
	}
	for _, s := range f.sched {
		if i >= s.start && i < s.end {
			kind = max(kind, s.kind)
			frozen = frozen || s.kind == Stuck
		}
	}
	return kind, frozen
}

// hold is the memory of a Stuck fault: for the whole time a Stuck fault
// covers the stream (even where a dropout or lead-off takes precedence)
// it repeats the last valid sample from before the fault, or the first
// sample of the fault if there was none.
type hold struct {
	active bool
	have   bool
	last   [2]float64
	held   [2]float64
}

// update is called once per sample with the fault-free values.
func (h *hold) update(frozen bool, clean [2]float64) {
	if frozen && !h.active {
		h.held = clean
		if h.have {
			h.held = h.last
		}
	}
	h.active = frozen
}

// valid records a sample that went out valid.
func (h *hold) valid(v [2]float64) {
	h.last = v
	h.have = true
}

// list returns the scheduled and random faults that start before d, sorted
// by start time: the ground truth of what the stream shows.
func (f *faults) list(d time.Duration) []Fault {
	var out []Fault
	for _, x := range f.fixed {
		if x.At < d {
			out = append(out, x)
		}
	}
	g := f.plan
	for {
		x := g.next()
		if x.At >= d {
			break
		}
		out = append(out, x)
	}
	slices.SortStableFunc(out, func(a, b Fault) int { return cmp.Compare(a.At, b.At) })
	return out
}
