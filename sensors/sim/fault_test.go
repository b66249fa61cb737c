package sim

import (
	"cmp"
	"math"
	"slices"
	"testing"
	"time"
)

// sampleOut is what one read of one sample of any stream gave.
type sampleOut struct {
	v     [2]float64
	valid bool
	off   bool // LeadOff / ProbeOff after the read
}

// expectedKind is the fault the schedule puts on sample i, straight from
// the definition (At <= i/rate < At+For, highest kind wins), and whether a
// Stuck fault covers it.
func expectedKind(fs []Fault, i int, rate float64) (FaultKind, bool) {
	var k FaultKind
	frozen := false
	t := float64(i) / rate
	for _, f := range fs {
		if t >= f.At.Seconds() && t < (f.At+f.For).Seconds() {
			k = max(k, f.Kind)
			frozen = frozen || f.Kind == Stuck
		}
	}
	return k, frozen
}

// checkFaults compares a faulted stream with the same stream without
// faults, sample by sample. off is the value a LeadOff sample must have
// (NaN: not checked, as for the PPG whose ambient level carries noise).
func checkFaults(t *testing.T, fs []Fault, rate float64, got, clean []sampleOut, off float64) (seen map[FaultKind]int) {
	t.Helper()
	seen = map[FaultKind]int{}
	var held [2]float64
	wasFrozen := false
	lastValid := -1
	for i := range got {
		k, frozen := expectedKind(fs, i, rate)
		if frozen && !wasFrozen {
			held = clean[i].v
			if lastValid >= 0 {
				held = got[lastValid].v
			}
		}
		wasFrozen = frozen
		g := got[i]
		seen[k]++
		bad := false
		switch k {
		case 0:
			bad = !g.valid || g.off || g.v != clean[i].v
		case Stuck:
			bad = !g.valid || g.off || g.v != held
		case Dropout:
			bad = g.valid || g.off || g.v != [2]float64{}
		case LeadOff:
			bad = g.valid || !g.off || (!math.IsNaN(off) && g.v[0] != off)
		}
		if bad {
			t.Fatalf("sample %d (%.4f s): want %v, got %+v (fault-free %+v, held %v)", i, float64(i)/rate, kindName(k), g, clean[i], held)
		}
		if g.valid {
			lastValid = i
		}
	}
	return seen
}

func kindName(k FaultKind) string {
	if k == 0 {
		return "no fault"
	}
	return k.String()
}

// schedule has every kind, off the sample grid, and overlaps to test
// precedence: dropout and lead-off inside a stuck fault, which resumes
// with the same held value afterwards.
var schedule = []Fault{
	{Kind: Dropout, At: 2 * time.Second, For: 500 * time.Millisecond},
	{Kind: Stuck, At: 4001 * time.Millisecond, For: time.Second},
	{Kind: LeadOff, At: 7003 * time.Millisecond, For: 2 * time.Second},
	{Kind: Stuck, At: 12 * time.Second, For: 3 * time.Second},
	{Kind: Dropout, At: 13 * time.Second, For: time.Second},
	{Kind: LeadOff, At: 13500 * time.Millisecond, For: 100 * time.Millisecond},
	// Listed after the faults they overlap, so list order cannot stand
	// in for precedence.
	{Kind: Dropout, At: 13400 * time.Millisecond, For: 400 * time.Millisecond},
	{Kind: Stuck, At: 2200 * time.Millisecond, For: 100 * time.Millisecond},
	{Kind: Stuck, At: 7500 * time.Millisecond, For: 100 * time.Millisecond},
}

func readAllECG(e *ECG, n int) []sampleOut {
	out := make([]sampleOut, n)
	d, v := make([]float64, 1), make([]bool, 1)
	for i := range out {
		e.Read(d, v)
		out[i] = sampleOut{v: [2]float64{d[0]}, valid: v[0], off: e.LeadOff()}
	}
	return out
}

func readAllPPG(s *PPG, n int) []sampleOut {
	out := make([]sampleOut, n)
	r, ir, v := make([]float64, 1), make([]float64, 1), make([]bool, 1)
	for i := range out {
		s.Read(r, ir, v)
		out[i] = sampleOut{v: [2]float64{r[0], ir[0]}, valid: v[0], off: s.ProbeOff()}
	}
	return out
}

func readAllTemp(s *Temp, n int) []sampleOut {
	out := make([]sampleOut, n)
	d, v := make([]float64, 1), make([]bool, 1)
	for i := range out {
		s.Read(d, v)
		out[i] = sampleOut{v: [2]float64{d[0]}, valid: v[0]}
	}
	return out
}

func TestFaultsWhereScheduled(t *testing.T) {
	p := mustPatient(t, DefaultPatientOptions())
	allKinds := func(t *testing.T, seen map[FaultKind]int, kinds ...FaultKind) {
		for _, k := range kinds {
			if seen[k] == 0 {
				t.Errorf("no sample shows %v", k)
			}
		}
	}

	t.Run("ecg", func(t *testing.T) {
		o := DefaultECGOptions()
		clean := readAllECG(mustECG(t, p, o), 20*500)
		o.Faults = schedule
		e := mustECG(t, p, o)
		got := readAllECG(e, 20*500)
		allKinds(t, checkFaults(t, schedule, 500, got, clean, o.RailMV), Stuck, Dropout, LeadOff)
		if !slices.Equal(e.Faults(time.Hour), sortedFaults(schedule)) {
			t.Errorf("Faults() = %v", e.Faults(time.Hour))
		}
	})
	t.Run("ppg", func(t *testing.T) {
		o := DefaultPPGOptions()
		clean := readAllPPG(mustPPG(t, p, o), 20*100)
		o.Faults = schedule
		got := readAllPPG(mustPPG(t, p, o), 20*100)
		allKinds(t, checkFaults(t, schedule, 100, got, clean, math.NaN()), Stuck, Dropout, LeadOff)
		for i, g := range got {
			if g.off && math.Abs(g.v[1]-o.AmbientCounts) > 5*o.NoiseCounts {
				t.Fatalf("sample %d probe off reads %v, want ambient %g", i, g.v, o.AmbientCounts)
			}
		}
	})
	t.Run("temp", func(t *testing.T) {
		fs := []Fault{schedule[0], schedule[1], schedule[3], schedule[4], schedule[6], schedule[7]}
		o := DefaultTempOptions()
		o.Rate = 10
		clean := readAllTemp(mustTemp(t, p, o), 200)
		o.Faults = fs
		got := readAllTemp(mustTemp(t, p, o), 200)
		allKinds(t, checkFaults(t, fs, 10, got, clean, math.NaN()), Stuck, Dropout)
		o.Faults = []Fault{{Kind: LeadOff, For: time.Second}}
		if _, err := p.Temp(o); err == nil {
			t.Error("lead-off accepted for temperature")
		}
	})
}

func sortedFaults(fs []Fault) []Fault {
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(a, b Fault) int { return cmp.Compare(a.At, b.At) })
	return out
}

func TestFaultsRandom(t *testing.T) {
	p := mustPatient(t, DefaultPatientOptions())
	const rate, dur = 250, 5 * time.Minute
	n := int(dur.Seconds() * rate)
	o := DefaultECGOptions()
	o.Rate = rate
	clean := readAllECG(mustECG(t, p, o), n)
	o.Random = RandomFaults{PerHour: 1200, MeanFor: 500 * time.Millisecond}
	e := mustECG(t, p, o)
	got := readAllECG(e, n)
	plan := e.Faults(dur)
	// 1200/h over 5 min: 100 expected; Poisson, so allow a wide band.
	if len(plan) < 60 || len(plan) > 140 {
		t.Fatalf("%d random faults in 5 min at 1200/h", len(plan))
	}
	seen := checkFaults(t, plan, rate, got, clean, o.RailMV)
	for _, k := range ecgFaultKinds {
		if seen[k] == 0 {
			t.Errorf("random faults never show %v", k)
		}
	}
	// The plan is a function of the seed: the same again, another seed
	// something else.
	if again := mustECG(t, p, o).Faults(dur); !slices.Equal(plan, again) {
		t.Error("same seed, different random faults")
	}
	po := DefaultPatientOptions()
	po.Seed = 3
	if other := mustECG(t, mustPatient(t, po), o).Faults(dur); slices.Equal(plan, other) {
		t.Error("different seed, same random faults")
	}
	// Restricting the kinds is honoured.
	o.Random.Kinds = []FaultKind{Dropout}
	for _, f := range mustECG(t, p, o).Faults(dur) {
		if f.Kind != Dropout {
			t.Fatalf("kind %v drawn, only dropout allowed", f.Kind)
		}
	}
}

func TestFaultKindString(t *testing.T) {
	for k, want := range map[FaultKind]string{Stuck: "stuck", Dropout: "dropout", LeadOff: "lead-off", 0: "FaultKind(0)"} {
		if got := k.String(); got != want {
			t.Errorf("%d: %q, want %q", k, got, want)
		}
	}
}
