package ecgtest

import (
	"math"
	"testing"
)

func rms(x []float64) float64 {
	m := level(x, 0, len(x))
	s := 0.0
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(x)))
}

func TestNoiseLevels(t *testing.T) {
	for _, k := range []NoiseKind{White, Muscle} {
		n := Noise(k, 360, 60, 0.6, 1)
		if len(n) != 60*360 || math.Abs(rms(n)-0.6) > 1e-9 || math.Abs(level(n, 0, len(n))) > 1e-9 {
			t.Errorf("%s: %d samples, RMS %.3f, mean %.3f; want 21600, 0.6, 0", k, len(n), rms(n), level(n, 0, len(n)))
		}
	}
	// Muscle-like noise has little below 20 Hz: a 0.1 s moving mean (a
	// low-pass near 10 Hz) keeps far less of it than of white noise.
	smooth := func(x []float64) float64 {
		y := make([]float64, len(x)-36)
		for i := range y {
			for _, v := range x[i : i+36] {
				y[i] += v / 36
			}
		}
		return rms(y)
	}
	if w, m := smooth(Noise(White, 360, 60, 1, 1)), smooth(Noise(Muscle, 360, 60, 1, 1)); !(m < 0.5*w) {
		t.Errorf("below 10 Hz: muscle-like RMS %.3f, white %.3f; want muscle well under white", m, w)
	}
}

func TestAsystoleSplice(t *testing.T) {
	x := Render(Rhythm(30, Regular(75)), 360, 30)
	y := Asystole(x, 360, 10, 12, 0.03, 1)
	if len(y) != len(x) {
		t.Fatalf("length %d, want %d", len(y), len(x))
	}
	flat := y[int(10.1*360):int(21.9*360)]
	if r := rms(flat); math.Abs(r-0.03) > 0.005 {
		t.Errorf("flat line RMS %.3f, want 0.03", r)
	}
	for i := 0; i < 10*360; i++ {
		if y[i] != x[i] {
			t.Fatalf("sample %d before the splice changed", i)
		}
	}
}

func TestReplaceAndAdd(t *testing.T) {
	x := Render(Rhythm(30, Regular(75)), 360, 30)
	nz := Noise(White, 360, 5, 0.5, 2)
	r := ReplaceWith(x, 360, 10, nz)
	a := AddTo(x, 360, 10, nz)
	for i := int(10.1 * 360); i < int(14.9*360); i++ {
		if math.Abs(a[i]-(x[i]+nz[i-3600])) > 1e-12 {
			t.Fatalf("AddTo sample %d", i)
		}
	}
	if got := rms(r[int(10.1*360):int(14.9*360)]); math.Abs(got-0.5) > 0.05 {
		t.Errorf("replaced stretch RMS %.3f, want the noise's 0.5", got)
	}
}

func TestPauseSplice(t *testing.T) {
	cs := Rhythm(30, Regular(60))
	x := Render(cs, 360, 30)
	r, next := int(cs[5].R*360), int(cs[6].R*360)
	y := Pause(x, 360, r, next, 3.5)
	// The next R peak (the largest value after the pause) is 3.5 s later.
	best, at := 0.0, 0
	for i := r + int(0.45*360); i < r+int(4*360); i++ {
		if y[i] > best {
			best, at = y[i], i
		}
	}
	if got := float64(at-r) / 360; math.Abs(got-3.5) > 0.01 {
		t.Errorf("next beat %.3f s after, want 3.5", got)
	}
}

// The EC13 waveforms have the mean R-R interval of their rate.
func TestEC13Rates(t *testing.T) {
	for _, w := range EC13Waveforms {
		cs := Rhythm(60, w.Beat)
		mean := (cs[len(cs)-1].R - cs[0].R) / float64(len(cs)-1)
		// An odd count of alternating intervals leaves half an interval over.
		if got := 60 / mean; math.Abs(got-w.Rate) > 0.03*w.Rate {
			t.Errorf("%s: mean rate %.1f, want %v", w.Name, got, w.Rate)
		}
	}
}
