package temp

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func newF(t testing.TB, mod func(*Config)) *Filter {
	t.Helper()
	cfg := Defaults()
	if mod != nil {
		mod(&cfg)
	}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSmoothingNoise(t *testing.T) {
	f := newF(t, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	var inSq, outSq float64
	n := 0
	for s := 0; s < 1200; s++ {
		v := 37 + 0.05*rng.NormFloat64()
		r := f.Update(at(float64(s)), v, true)
		if !r.Valid || r.Fault != 0 {
			t.Fatalf("t=%d: %+v", s, r)
		}
		if s >= 60 {
			inSq += (v - 37) * (v - 37)
			outSq += (r.Celsius - 37) * (r.Celsius - 37)
			n++
		}
	}
	in, out := math.Sqrt(inSq/float64(n)), math.Sqrt(outSq/float64(n))
	if out > in/4 {
		t.Errorf("noise %.4f °C in, %.4f out: smoothing removes less than 4x", in, out)
	}
}

func TestStepResponse(t *testing.T) {
	// A slow physiological rise of 1 °C over 5 min (0.2 °C/min) is
	// followed with the lag of the time constant.
	f := newF(t, nil)
	var r Reading
	for s := 0; s <= 600; s++ {
		v := 37.0
		if s > 300 {
			v = 37 + math.Min(1, float64(s-300)/300)
		}
		r = f.Update(at(float64(s)), v, true)
		if !r.Valid {
			t.Fatalf("t=%d: rejected a plausible reading: %+v", s, r)
		}
	}
	if math.Abs(r.Celsius-38) > 0.05 {
		t.Errorf("after the ramp: %.3f °C, want 38 ± 0.05", r.Celsius)
	}
}

func TestSpikeRejected(t *testing.T) {
	f := newF(t, nil)
	for s := 0; s < 60; s++ {
		f.Update(at(float64(s)), 36.8, true)
	}
	r := f.Update(at(60), 41, true) // 4.2 °C in 1 s
	if r.Valid || r.Fault != RateLimited {
		t.Fatalf("spike: %+v, want rate_limited", r)
	}
	r = f.Update(at(61), 36.81, true)
	if !r.Valid || math.Abs(r.Celsius-36.8) > 0.01 {
		t.Errorf("after the spike: %+v", r)
	}
}

func TestRealStepRejoins(t *testing.T) {
	f := newF(t, nil)
	for s := 0; s < 60; s++ {
		f.Update(at(float64(s)), 35.0, true)
	}
	// The probe is re-seated: 2 °C higher from now on.
	var got []Fault
	var r Reading
	for s := 60; s < 64; s++ {
		r = f.Update(at(float64(s)), 37.0, true)
		got = append(got, r.Fault)
	}
	want := []Fault{RateLimited, RateLimited, 0, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("faults = %v, want %v", got, want)
		}
	}
	if r.Celsius != 37 {
		t.Errorf("after the step: %.3f, want 37 (smoothing restarted)", r.Celsius)
	}
}

func TestScatteredSpikesDoNotRejoin(t *testing.T) {
	f := newF(t, nil)
	for s := 0; s < 60; s++ {
		f.Update(at(float64(s)), 36.5, true)
	}
	// Three wild readings that disagree with each other.
	for i, v := range []float64{44, 26, 43} {
		if r := f.Update(at(float64(60+i)), v, true); r.Valid {
			t.Fatalf("wild reading %g accepted: %+v", v, r)
		}
	}
}

func TestRange(t *testing.T) {
	for _, c := range []struct {
		v     float64
		valid bool
	}{{24.9, false}, {25, true}, {45, true}, {45.1, false}, {22, false}} {
		// A fresh filter per value: no rate limit in the way.
		f := newF(t, nil)
		r := f.Update(at(0), c.v, true)
		if r.Valid != c.valid || (!c.valid && r.Fault != OutOfRange) {
			t.Errorf("%g °C: %+v", c.v, r)
		}
	}
	if r := newF(t, nil).Update(at(0), 45, true); !r.Valid {
		t.Errorf("45 °C is the inclusive maximum: %+v", r)
	}
}

func TestStuck(t *testing.T) {
	f := newF(t, nil)
	var r Reading
	for s := 0; s < 599; s++ {
		r = f.Update(at(float64(s)), 36.71875, true)
	}
	if !r.Valid {
		t.Fatalf("stuck too early: %+v", r)
	}
	r = f.Update(at(600), 36.71875, true)
	if r.Valid || r.Fault != Stuck {
		t.Fatalf("10 min of identical readings: %+v, want stuck", r)
	}
	r = f.Update(at(601), 36.7265625, true) // one TMP117 LSB
	if !r.Valid || r.Fault != 0 {
		t.Errorf("a changed reading still stuck: %+v", r)
	}
}

func TestStuckTolerance(t *testing.T) {
	f := newF(t, func(c *Config) { c.StuckTolerance = 0.01; c.StuckAfter = time.Minute })
	var r Reading
	for s := 0; s <= 60; s++ {
		r = f.Update(at(float64(s)), 36.7+0.005*float64(s%2), true)
	}
	if r.Fault != Stuck {
		t.Errorf("readings within the tolerance for the period: %+v, want stuck", r)
	}
}

func TestStuckOutOfRange(t *testing.T) {
	f := newF(t, nil)
	var r Reading
	for s := 0; s <= 600; s++ {
		r = f.Update(at(float64(s)), 0, true)
	}
	if r.Fault != OutOfRange|Stuck || r.Fault.String() != "out_of_range|stuck" {
		t.Errorf("stuck at 0 °C: %v", r.Fault)
	}
}

func TestInvalidInputs(t *testing.T) {
	f := newF(t, nil)
	f.Update(at(0), 37, true)
	for _, c := range []struct {
		name  string
		now   time.Time
		v     float64
		valid bool
	}{
		{"nan", at(1), math.NaN(), true},
		{"inf", at(2), math.Inf(1), true},
		{"marked", at(3), 37, false},
		{"same time", at(0), 37, true},
		{"earlier", at(-5), 37, true},
	} {
		r := f.Update(c.now, c.v, c.valid)
		if r.Valid || r.Fault != Invalid {
			t.Errorf("%s: %+v", c.name, r)
		}
	}
	if r := f.Update(at(4), 37.01, true); !r.Valid || math.Abs(r.Celsius-37) > 0.02 {
		t.Errorf("after invalid inputs: %+v", r)
	}
}

func TestGapRestarts(t *testing.T) {
	f := newF(t, nil)
	for s := 0; s < 60; s++ {
		f.Update(at(float64(s)), 36, true)
	}
	// Two hours later, the patient is warmer; the rate check allows it
	// and the average does not drag the old value along.
	r := f.Update(at(7260), 38.5, true)
	if !r.Valid || r.Celsius != 38.5 {
		t.Errorf("after a long gap: %+v", r)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		key string
		mod func(*Config)
	}{
		{"temp.min", func(c *Config) { c.Min = math.NaN() }},
		{"temp.max", func(c *Config) { c.Max = c.Min }},
		{"temp.max_rate", func(c *Config) { c.MaxRate = 0 }},
		{"temp.jitter", func(c *Config) { c.Jitter = -1 }},
		{"temp.rejoin", func(c *Config) { c.Rejoin = 0 }},
		{"temp.median", func(c *Config) { c.Median = 4 }},
		{"temp.time_constant", func(c *Config) { c.TimeConstant = -1 }},
		{"temp.stuck_after", func(c *Config) { c.StuckAfter = time.Second }},
		{"temp.stuck_tolerance", func(c *Config) { c.StuckTolerance = 1 }},
	} {
		cfg := Defaults()
		c.mod(&cfg)
		_, err := New(cfg)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Key != c.key || !strings.HasPrefix(err.Error(), "temp: "+c.key+": ") {
			t.Errorf("%s: err = %v", c.key, err)
		}
	}
	if err := Defaults().Validate(); err != nil {
		t.Error(err)
	}
}

func TestNoAllocs(t *testing.T) {
	f := newF(t, nil)
	s := 0.0
	if a := testing.AllocsPerRun(1000, func() { f.Update(at(s), 37+0.01*math.Sin(s), true); s++ }); a != 0 {
		t.Errorf("%.1f allocations per reading", a)
	}
}

func BenchmarkUpdate(b *testing.B) {
	f := newF(b, nil)
	s := 0.0
	b.ReportAllocs()
	for b.Loop() {
		f.Update(at(s), 37+0.01*math.Sin(s), true)
		s++
	}
}

func FuzzTemp(f *testing.F) {
	f.Add(37.0, 1.0, true, 41.0, 2.0, true)
	f.Add(math.NaN(), 1.0, true, 37.0, -1.0, true)
	f.Add(0.0, 600.0, true, 0.0, 600.0, false)
	f.Add(math.Inf(1), 0.0, true, 45.0, 1e9, true)
	f.Fuzz(func(t *testing.T, v1, dt1 float64, ok1 bool, v2, dt2 float64, ok2 bool) {
		fl := newF(t, nil)
		now := t0
		for i := 0; i < 50; i++ {
			v, dt, ok := v1, dt1, ok1
			if i%3 == 1 {
				v, dt, ok = v2, dt2, ok2
			}
			if !math.IsNaN(dt) && math.Abs(dt) < 1e6 {
				now = now.Add(time.Duration(dt * float64(time.Second)))
			}
			r := fl.Update(now, v+float64(i%2)*0.01, ok)
			if r.Valid && (math.IsNaN(r.Celsius) || r.Celsius < 25 || r.Celsius > 45 || r.Fault != 0) {
				t.Fatalf("valid reading out of bounds: %+v", r)
			}
		}
	})
}

// TestProbeWarmUp: a probe put on at room temperature warms faster than
// body temperature can change. Out of range below 25 °C, then fast: most
// readings may be held back, but the filter follows the warm-up and
// settles on the plateau.
func TestProbeWarmUp(t *testing.T) {
	f := newF(t, nil)
	valid := 0
	var r Reading
	for s := 0; s <= 300; s++ {
		// 22 °C to 37 °C, time constant 30 s.
		v := 37 - 15*math.Exp(-float64(s)/30)
		r = f.Update(at(float64(s)), v, true)
		if v < 25 && r.Fault != OutOfRange {
			t.Fatalf("t=%d %.2f °C: %v, want out_of_range", s, v, r.Fault)
		}
		if r.Valid {
			valid++
			// Smoothing lags a rising temperature; it must not overshoot.
			if r.Celsius > v+0.01 || r.Celsius < 25 {
				t.Fatalf("t=%d: %.2f °C shown for %.2f", s, r.Celsius, v)
			}
		}
	}
	if !r.Valid || math.Abs(r.Celsius-37) > 0.05 {
		t.Errorf("plateau: %+v", r)
	}
	t.Logf("%d of 301 readings valid", valid)
}
