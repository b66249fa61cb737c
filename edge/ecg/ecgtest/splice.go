// Package ecgtest makes ECG test signals for the tests and benchmarks of the
// ECG stage: episodes spliced into recorded ECG (asystole, pauses, noise)
// and the synthetic waveforms of ANSI/AAMI EC13 and IEC 60601-2-27 (the
// irregular rhythms 3a-3d, tall T waves, rate steps), built from their
// published descriptions.
//
// Signals are slices of samples in mV at a given rate; every function
// returns a new slice and leaves its input alone. Random noise comes from a
// seeded generator, so a test sees the same signal every run.
package ecgtest

import (
	"math"
	"math/rand/v2"
)

// NoiseKind names the noise Splice* puts in.
type NoiseKind string

// Kinds of noise.
const (
	// White is Gaussian white noise.
	White NoiseKind = "white"
	// Muscle is muscle-like noise: Gaussian noise band-passed to
	// 20-150 Hz (below 0.45 of the rate), the band of surface EMG.
	Muscle NoiseKind = "muscle"
)

// level is the mean of x[from:to] (the baseline to splice at).
func level(x []float64, from, to int) float64 {
	from, to = max(from, 0), min(to, len(x))
	if to <= from {
		return 0
	}
	s := 0.0
	for _, v := range x[from:to] {
		s += v
	}
	return s / float64(to-from)
}

// span turns seconds into a clamped sample range.
func span(n int, rate, at, dur float64) (int, int) {
	a := int(math.Round(at * rate))
	b := a + int(math.Round(dur*rate))
	return max(a, 0), min(b, n)
}

// Asystole replaces dur seconds from at with a flat line: the level of the
// second before at, plus Gaussian noise of RMS noiseRMS (mV), joined to the
// signal on both sides by a 40 ms cross-fade so that the splice makes no
// step. This is cardiac standstill on a connected lead.
func Asystole(x []float64, rate, at, dur, noiseRMS float64, seed uint64) []float64 {
	out := append([]float64(nil), x...)
	a, b := span(len(x), rate, at, dur)
	base := level(x, a-int(rate), a)
	r := rand.New(rand.NewPCG(seed, 0xa5))
	flat := make([]float64, b-a)
	for i := range flat {
		flat[i] = base + noiseRMS*r.NormFloat64()
	}
	blend(out, flat, a, rate)
	return out
}

// blend writes seg over out from a, cross-fading 40 ms at both ends.
func blend(out, seg []float64, a int, rate float64) {
	fade := max(1, int(0.04*rate))
	for i, v := range seg {
		w := 1.0
		if i < fade {
			w = 0.5 - 0.5*math.Cos(math.Pi*float64(i)/float64(fade))
		} else if j := len(seg) - 1 - i; j < fade {
			w = 0.5 - 0.5*math.Cos(math.Pi*float64(j)/float64(fade))
		}
		out[a+i] = w*v + (1-w)*out[a+i]
	}
}

// Noise returns dur seconds of noise of the given kind with RMS rms (mV).
func Noise(kind NoiseKind, rate, dur, rms float64, seed uint64) []float64 {
	n := int(math.Round(dur * rate))
	r := rand.New(rand.NewPCG(seed, 0x5a))
	out := make([]float64, n)
	for i := range out {
		out[i] = r.NormFloat64()
	}
	if kind == Muscle {
		hi := math.Min(150, 0.45*rate)
		f := []biquad{newBiquad(true, 20, rate), newBiquad(true, 20, rate), newBiquad(false, hi, rate), newBiquad(false, hi, rate)}
		// Run the filters in for a second first, so the start is not
		// quieter than the rest.
		for i := 0; i < int(rate); i++ {
			v := r.NormFloat64()
			for k := range f {
				v = f[k].step(v)
			}
		}
		for i := range out {
			for k := range f {
				out[i] = f[k].step(out[i])
			}
		}
	}
	return Scale(out, rms)
}

// Scale returns noise with its mean removed, scaled to RMS rms.
func Scale(noise []float64, rms float64) []float64 {
	out := append([]float64(nil), noise...)
	m := level(out, 0, len(out))
	ss := 0.0
	for i := range out {
		out[i] -= m
		ss += out[i] * out[i]
	}
	if ss == 0 {
		return out
	}
	k := rms / math.Sqrt(ss/float64(len(out)))
	for i := range out {
		out[i] *= k
	}
	return out
}

// ReplaceWith puts noise (from its start, repeated if shorter) in place of
// the signal from at, for len(noise) samples, on the level of the second
// before, with 40 ms cross-fades: the ECG is gone, only noise is left.
func ReplaceWith(x []float64, rate, at float64, noise []float64) []float64 {
	out := append([]float64(nil), x...)
	a, b := span(len(x), rate, at, float64(len(noise))/rate)
	base := level(x, a-int(rate), a)
	seg := make([]float64, b-a)
	for i := range seg {
		seg[i] = base + noise[i]
	}
	blend(out, seg, a, rate)
	return out
}

// AddTo adds noise to the signal from at: the ECG is still there, under
// the noise.
func AddTo(x []float64, rate, at float64, noise []float64) []float64 {
	out := append([]float64(nil), x...)
	a, b := span(len(x), rate, at, float64(len(noise))/rate)
	for i := a; i < b; i++ {
		out[i] += noise[i-a]
	}
	return out
}

// Pause makes the beat whose R peak is at sample r the last one for dur
// seconds: the signal from 0.45 s after it is shifted dur − (the R-R that
// followed) later and the gap filled with the level of the T-P segment,
// so the next R-R interval is dur. next is the R peak of the beat that
// followed r. The signal keeps its length (its end is cut).
func Pause(x []float64, rate float64, r, next int, dur float64) []float64 {
	cut := r + int(0.45*rate)
	shift := int(math.Round(dur*rate)) - (next - r)
	if shift <= 0 || cut >= len(x) {
		return append([]float64(nil), x...)
	}
	base := level(x, cut, min(cut+int(0.1*rate), len(x)))
	out := make([]float64, len(x))
	copy(out, x[:cut])
	for i := cut; i < len(out); i++ {
		if i < cut+shift {
			out[i] = base
		} else {
			out[i] = x[i-shift]
		}
	}
	return out
}

// biquad is a second-order Butterworth section (high-pass or low-pass).
type biquad struct{ b0, b1, b2, a1, a2, x1, x2, y1, y2 float64 }

func newBiquad(high bool, f0, fs float64) biquad {
	w := 2 * math.Pi * f0 / fs
	cw, alpha := math.Cos(w), math.Sin(w)/math.Sqrt2
	b0, b1 := (1-cw)/2, 1-cw
	if high {
		b0, b1 = (1+cw)/2, -(1 + cw)
	}
	a0 := 1 + alpha
	return biquad{b0: b0 / a0, b1: b1 / a0, b2: b0 / a0, a1: -2 * cw / a0, a2: (1 - alpha) / a0}
}

func (f *biquad) step(x float64) float64 {
	y := f.b0*x + f.b1*f.x1 + f.b2*f.x2 - f.a1*f.y1 - f.a2*f.y2
	f.x2, f.x1 = f.x1, x
	f.y2, f.y1 = f.y1, y
	return y
}
