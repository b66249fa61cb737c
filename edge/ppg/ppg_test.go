package ppg

import (
	"math"
	"math/rand/v2"
	"testing"
)

func newP(t testing.TB, mod func(*Config)) *Processor {
	t.Helper()
	cfg := Defaults()
	if mod != nil {
		mod(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSpO2Synthetic(t *testing.T) {
	type tc struct {
		name string
		s    synth
		cfg  func(*Config)
	}
	var cases []tc
	for _, spo2 := range []float64{100, 97, 90, 85, 80} {
		s := defaultSynth(spo2)
		cases = append(cases, tc{name: "spo2=" + ftoa(spo2), s: s})
	}
	add := func(name string, f func(*synth)) {
		s := defaultSynth(95)
		f(&s)
		cases = append(cases, tc{name: name, s: s})
	}
	add("25Hz", func(s *synth) { s.rate = 25 })
	add("400Hz", func(s *synth) { s.rate = 400 })
	add("sine", func(s *synth) { s.sine = true })
	add("bpm=40", func(s *synth) { s.bpm = 40 })
	add("bpm=180", func(s *synth) { s.bpm = 180 })
	add("noisy", func(s *synth) { s.noise = 20; s.spo2 = 88 }) // 1 % of the IR AC
	add("pi=0.5", func(s *synth) { s.pi = 0.5; s.spo2 = 92 })
	add("wander", func(s *synth) { s.wander = 0.01; s.spo2 = 93 }) // ±1 % DC at 15 /min
	// Respiratory wander twice the pulse's size, at a fast rate.
	add("wander fast", func(s *synth) { s.wander = 0.02; s.bpm = 130; s.spo2 = 88 })
	// A plethysmogram already turned upright, as monitors export it.
	up := defaultSynth(95)
	up.invert = false
	cases = append(cases, tc{name: "upright", s: up, cfg: func(c *Config) { c.Inverted = false }})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newP(t, func(cfg *Config) {
				cfg.Rate = c.s.rate
				if c.cfg != nil {
					c.cfg(cfg)
				}
			})
			r, beats := c.s.run(p, 0, 30)
			t.Logf("SpO2 %.2f (want %.0f), rate %.2f (want %.0f), PI %.3f (set %.3f), %d beats",
				r.SpO2, c.s.spo2, r.PulseRate, c.s.bpm, r.PI, c.s.pi, beats)
			if !r.SpO2Valid || !r.RateValid || !r.PIValid {
				t.Fatalf("not valid after 30 s: %+v", r)
			}
			if math.Abs(r.SpO2-c.s.spo2) > 1 {
				t.Errorf("SpO2 = %.2f %%, want %.0f ± 1 (R = %.4f, want %.4f)", r.SpO2, c.s.spo2, r.R, c.s.ratio())
			}
			if math.Abs(r.PulseRate-c.s.bpm) > 1 {
				t.Errorf("pulse rate = %.2f /min, want %.0f ± 1", r.PulseRate, c.s.bpm)
			}
			// 30 s less the one-second settling, less at most one pulse.
			want := (30 - 1) * c.s.bpm / 60
			if float64(beats) < want-2 || float64(beats) > want+1 {
				t.Errorf("beats = %d, want about %.1f", beats, want)
			}
			// The filters reshape the pulse a little; at 180 /min the
			// narrow systolic wave loses most (about 11 %).
			if math.Abs(r.PI-c.s.pi) > 0.12*c.s.pi {
				t.Errorf("PI = %.3f %%, want %.3f ± 12 %%", r.PI, c.s.pi)
			}
			if r.Motion || r.ProbeOff || r.LowPerfusion {
				t.Errorf("flags on a clean signal: %+v", r)
			}
		})
	}
}

func ftoa(v float64) string {
	return string(rune('0'+int(v)/100%10)) + string(rune('0'+int(v)/10%10)) + string(rune('0'+int(v)%10))
}

func TestPerfusionIndex(t *testing.T) {
	for _, c := range []struct {
		pi      float64
		sine    bool
		wantLow bool
	}{
		{pi: 5, sine: true},
		{pi: 1, sine: true},
		{pi: 0.4, sine: true},
		{pi: 0.2, sine: true, wantLow: true},
		{pi: 2},
		{pi: 0.1, wantLow: true},
	} {
		s := defaultSynth(97)
		s.pi, s.sine = c.pi, c.sine
		p := newP(t, nil)
		r, _ := s.run(p, 0, 20)
		// The band-pass takes a little off the pulse: 1.7 % for a sine at
		// 72 /min, more for the sharper systolic wave's harmonics.
		tol := 0.03
		if !c.sine {
			tol = 0.12
		}
		if !r.PIValid || math.Abs(r.PI-c.pi) > tol*c.pi {
			t.Errorf("pi=%g sine=%v: PI = %.4f (valid %v), want within %.0f %%", c.pi, c.sine, r.PI, r.PIValid, tol*100)
		}
		if r.LowPerfusion != c.wantLow {
			t.Errorf("pi=%g: LowPerfusion = %v, want %v", c.pi, r.LowPerfusion, c.wantLow)
		}
	}
}

func TestLowPerfusionThreshold(t *testing.T) {
	s := defaultSynth(97)
	s.pi = 1
	p := newP(t, func(c *Config) { c.LowPerfusionPI = 1.5 })
	if r, _ := s.run(p, 0, 20); !r.LowPerfusion {
		t.Errorf("PI %.2f below configured 1.5 %%: LowPerfusion not set", r.PI)
	}
}

func TestMotionDCJump(t *testing.T) {
	s := defaultSynth(97)
	p := newP(t, nil)
	r, _ := s.run(p, 0, 15)
	if r.Motion {
		t.Fatalf("motion before the jump: %+v", r)
	}
	s.dcIR *= 1.3
	s.dcRed *= 1.3
	r, _ = s.run(p, 1500, 3)
	if !r.Motion {
		t.Errorf("no motion flag after a 30 %% DC jump: %+v", r)
	}
	// Once Average clean pulses have passed, the flag clears.
	r, _ = s.run(p, 1800, 15)
	if r.Motion {
		t.Errorf("motion flag stuck 15 s after the jump: %+v", r)
	}
}

// pulses feeds pulses of the synth's shape with per-pulse rate and
// amplitude factor.
func pulses(p *Processor, s synth, bpm func(k int) float64, amp func(k int) float64, n int) Result {
	var r Result
	for k := 0; k < n; k++ {
		m := int(s.rate * 60 / bpm(k))
		for j := 0; j < m; j++ {
			w := s.wave(float64(j) / float64(m))
			if s.invert {
				w = -w
			}
			acIR := amp(k) * s.pi / 100 * s.dcIR
			acRed := amp(k) * s.ratio() * s.pi / 100 * s.dcRed
			r = p.Push(s.dcRed+acRed*w, s.dcIR+acIR*w, true)
		}
	}
	return r
}

func TestMotionIrregular(t *testing.T) {
	const n = 40
	steady := func(int) float64 { return 1 }
	for _, c := range []struct {
		name string
		bpm  func(k int) float64
		amp  func(k int) float64
		want bool
	}{
		{"regular", func(int) float64 { return 72 }, steady, false},
		{"slow rate change", func(k int) float64 { return 60 + float64(k) }, steady, false},
		{"amplitude drift", func(int) float64 { return 72 }, func(k int) float64 { return 1 + 0.02*float64(k) }, false},
		// Every fourth interval 60 % longer: a pause, or a missed pulse.
		{"irregular intervals", func(k int) float64 {
			if k%4 == 0 {
				return 45
			}
			return 72
		}, steady, true},
		// Every fifth pulse four times larger: a knock on the probe.
		{"amplitude bursts", func(int) float64 { return 72 }, func(k int) float64 {
			if k%5 == 0 {
				return 4
			}
			return 1
		}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newP(t, nil)
			r := pulses(p, defaultSynth(97), c.bpm, c.amp, n)
			if r.Motion != c.want {
				t.Errorf("Motion = %v, want %v (%+v)", r.Motion, c.want, r)
			}
			if !r.RateValid {
				t.Errorf("rate lost: %+v", r)
			}
		})
	}
}

func TestProbeOff(t *testing.T) {
	for _, c := range []struct {
		name    string
		red, ir float64
	}{
		{"dark", 300, 500},
		{"red dark", 300, 120000},
		{"saturated", 262143, 262143},
		{"ir saturated", 90000, 262000},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := defaultSynth(97)
			p := newP(t, nil)
			if r, _ := s.run(p, 0, 15); !r.SpO2Valid || r.ProbeOff {
				t.Fatalf("not locked before probe off: %+v", r)
			}
			var r Result
			for i := 0; i < 50; i++ {
				r = p.Push(c.red, c.ir, true)
			}
			if !r.ProbeOff {
				t.Fatalf("ProbeOff not set after 0.5 s off: %+v", r)
			}
			if r.SpO2Valid || r.RateValid || r.PIValid {
				t.Errorf("values still valid with the probe off: %+v", r)
			}
			r, _ = s.run(p, 2000, 15)
			if r.ProbeOff || !r.SpO2Valid || math.Abs(r.SpO2-97) > 1 || math.Abs(r.PulseRate-72) > 1 {
				t.Errorf("no recovery 15 s after the probe is back: %+v", r)
			}
		})
	}
}

func TestProbeOffBriefGlitch(t *testing.T) {
	s := defaultSynth(97)
	p := newP(t, nil)
	s.run(p, 0, 15)
	// 0.1 s out of range is shorter than the 0.25 s hold.
	var r Result
	for i := 0; i < 10; i++ {
		r = p.Push(0, 0, true)
	}
	if r.ProbeOff {
		t.Errorf("ProbeOff after a 0.1 s glitch")
	}
}

func TestGapsAndNaN(t *testing.T) {
	for _, c := range []struct {
		name string
		bad  func(i int) (float64, float64, bool)
	}{
		{"invalid", func(int) (float64, float64, bool) { return 1e5, 1e5, false }},
		{"nan", func(int) (float64, float64, bool) { return math.NaN(), 1e5, true }},
		{"inf", func(int) (float64, float64, bool) { return 1e5, math.Inf(-1), true }},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := defaultSynth(90)
			p := newP(t, nil)
			s.run(p, 0, 15)
			var r Result
			// A 5 s gap: longer than the 3 s hold, values must expire.
			for i := 0; i < 500; i++ {
				r = p.Push(c.bad(i))
			}
			if r.SpO2Valid || r.RateValid {
				t.Errorf("values still valid after a 5 s gap: %+v", r)
			}
			if math.IsNaN(r.SpO2) || math.IsNaN(r.PI) || math.IsNaN(r.PulseRate) {
				t.Errorf("NaN leaked: %+v", r)
			}
			r, _ = s.run(p, 2000, 15)
			if !r.SpO2Valid || math.Abs(r.SpO2-90) > 1 || math.Abs(r.PulseRate-72) > 1 {
				t.Errorf("no recovery after the gap: %+v", r)
			}
		})
	}
}

func TestShortGapKeepsValues(t *testing.T) {
	s := defaultSynth(90)
	p := newP(t, nil)
	s.run(p, 0, 15)
	var r Result
	for i := 0; i < 20; i++ { // 0.2 s
		r = p.Push(0, 0, false)
	}
	if !r.SpO2Valid || !r.RateValid {
		t.Errorf("a 0.2 s gap dropped the values: %+v", r)
	}
}

func TestFlatLine(t *testing.T) {
	p := newP(t, nil)
	var r Result
	beats := 0
	for i := 0; i < 3000; i++ {
		r = p.Push(90000, 120000, true)
		if r.Beat {
			beats++
		}
	}
	if beats != 0 || r.RateValid || r.SpO2Valid {
		t.Errorf("flat line: %d beats, %+v", beats, r)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		key string
		mod func(*Config)
	}{
		{"ppg.rate", func(c *Config) { c.Rate = 10 }},
		{"ppg.rate", func(c *Config) { c.Rate = math.NaN() }},
		{"ppg.cal_b", func(c *Config) { c.CalB = 0 }},
		{"ppg.r_max", func(c *Config) { c.RMax = c.RMin }},
		{"ppg.average", func(c *Config) { c.Average = 17 }},
		{"ppg.min_pulses", func(c *Config) { c.MinPulses = 9 }},
		{"ppg.low_perfusion_pi", func(c *Config) { c.LowPerfusionPI = -1 }},
		{"ppg.min_pi", func(c *Config) { c.MinPI = -0.1 }},
		{"ppg.saturation_dc", func(c *Config) { c.SaturationDC = 5 }},
		{"ppg.motion_dc_jump", func(c *Config) { c.MotionDCJump = 0 }},
	} {
		cfg := Defaults()
		c.mod(&cfg)
		_, err := New(cfg)
		if err == nil || !containsKey(err, c.key) {
			t.Errorf("%s: err = %v, want one naming %s", c.key, err, c.key)
		}
	}
	if err := Defaults().Validate(); err != nil {
		t.Errorf("Defaults: %v", err)
	}
}

// TestNoiseOnly: a probe on a finger without a pulse (or on a table) gives
// noise, which must not become a pulse rate.
func TestNoiseOnly(t *testing.T) {
	for _, c := range []struct {
		sigma, minPI float64
	}{{5, 0.05}, {20, 0.05}, {100, 0.3}} {
		p := newP(t, func(cfg *Config) { cfg.MinPI = c.minPI })
		rng := rand.New(rand.NewPCG(5, 6))
		beats, valid := 0, 0
		for i := 0; i < 6000; i++ {
			r := p.Push(90000+c.sigma*rng.NormFloat64(), 120000+c.sigma*rng.NormFloat64(), true)
			if r.Beat {
				beats++
			}
			if r.RateValid || r.SpO2Valid {
				valid++
			}
		}
		if beats > 0 || valid > 0 {
			t.Errorf("noise σ=%g counts, min_pi %g: %d pulses, %d samples with valid values", c.sigma, c.minPI, beats, valid)
		}
	}
}

func TestReset(t *testing.T) {
	s := defaultSynth(97)
	s.bpm = 150
	p := newP(t, nil)
	s.run(p, 0, 20)
	p.Reset()
	if r := p.Push(90000, 120000, true); r.RateValid || r.SpO2Valid || r.PIValid {
		t.Fatalf("values survived Reset: %+v", r)
	}
	// A new patient, slower and weaker: the old pulse height and interval
	// must not get in the way.
	s = defaultSynth(90)
	s.bpm, s.pi = 50, 0.4
	r, _ := s.run(p, 0, 20)
	if !r.RateValid || math.Abs(r.PulseRate-50) > 1 || math.Abs(r.SpO2-90) > 1 {
		t.Errorf("after Reset: %+v", r)
	}
}

// TestSpO2OutlierPulse: a pulse disturbed in the red channel only (motion
// seen differently by the two wavelengths) must not pull SpO2.
func TestSpO2OutlierPulse(t *testing.T) {
	s := defaultSynth(97)
	p := newP(t, nil)
	var r Result
	for k := 0; k < 40; k++ {
		m := int(s.rate * 60 / s.bpm)
		redGain := 1.0
		if k%6 == 0 {
			redGain = 3
		}
		for j := 0; j < m; j++ {
			w := s.wave(float64(j) / float64(m))
			if s.invert {
				w = -w
			}
			acIR := s.pi / 100 * s.dcIR
			acRed := redGain * s.ratio() * s.pi / 100 * s.dcRed
			r = p.Push(s.dcRed+acRed*w, s.dcIR+acIR*w, true)
		}
	}
	if !r.SpO2Valid || math.Abs(r.SpO2-97) > 1 {
		t.Errorf("SpO2 %.2f (valid %v) with one red-disturbed pulse in six, want 97 ± 1", r.SpO2, r.SpO2Valid)
	}
}
