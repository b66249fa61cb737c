package ecg

import (
	"math"
	"math/rand/v2"
)

// synth is a synthetic ECG: Gaussian P, QRS and T waves on given R peaks.
type synth struct {
	rate  float64
	peaks []int64 // R-peak sample indices
	n     int
}

// newSynth makes seconds of signal with RR intervals cycling through rr.
func newSynth(rate, seconds float64, rr ...float64) *synth {
	s := &synth{rate: rate, n: int(seconds * rate)}
	t := 0.5
	for k := 0; ; k++ {
		i := int64(math.Round(t * rate))
		if int(i) >= s.n-int(0.5*rate) {
			break
		}
		s.peaks = append(s.peaks, i)
		t += rr[k%len(rr)]
	}
	return s
}

func gauss(t, mu, sigma, a float64) float64 {
	d := (t - mu) / sigma
	return a * math.Exp(-0.5*d*d)
}

// at returns the clean ECG in mV at sample i: Q, R, S, P and T waves.
func (s *synth) at(i int) float64 {
	t := float64(i) / s.rate
	v := 0.0
	for _, p := range s.peaks {
		tp := float64(p) / s.rate
		if math.Abs(t-tp) > 0.6 {
			continue
		}
		v += gauss(t, tp-0.16, 0.025, 0.15)  // P
		v += gauss(t, tp-0.025, 0.008, -0.1) // Q
		v += gauss(t, tp, 0.010, 1.2)        // R
		v += gauss(t, tp+0.025, 0.008, -0.3) // S
		v += gauss(t, tp+0.28, 0.05, 0.35)   // T
	}
	return v
}

// samples renders the signal plus optional mains, wander and noise.
func (s *synth) samples(mainsHz, mains, wander, noise float64, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]float64, s.n)
	for i := range out {
		t := float64(i) / s.rate
		out[i] = s.at(i) + mains*math.Sin(2*math.Pi*mainsHz*t) + wander*math.Sin(2*math.Pi*0.3*t) + noise*r.NormFloat64() + 0.8
	}
	return out
}
