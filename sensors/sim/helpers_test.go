package sim

import (
	"testing"
	"time"
)

func mustPatient(t testing.TB, o PatientOptions) *Patient {
	t.Helper()
	p, err := NewPatient(o)
	if err != nil {
		t.Fatalf("NewPatient: %v", err)
	}
	return p
}

func mustECG(t testing.TB, p *Patient, o ECGOptions) *ECG {
	t.Helper()
	e, err := p.ECG(o)
	if err != nil {
		t.Fatalf("ECG: %v", err)
	}
	return e
}

func mustPPG(t testing.TB, p *Patient, o PPGOptions) *PPG {
	t.Helper()
	s, err := p.PPG(o)
	if err != nil {
		t.Fatalf("PPG: %v", err)
	}
	return s
}

// readECG reads n samples in one call.
func readECG(e *ECG, n int) ([]float64, []bool) {
	d, v := make([]float64, n), make([]bool, n)
	if got := e.Read(d, v); got != n {
		panic("short read")
	}
	return d, v
}

func readPPG(s *PPG, n int) (red, ir []float64, valid []bool) {
	red, ir, valid = make([]float64, n), make([]float64, n), make([]bool, n)
	if got := s.Read(red, ir, valid); got != n {
		panic("short read")
	}
	return red, ir, valid
}

// quietECG is the ECG without noise or interference: the model alone.
func quietECG() ECGOptions {
	o := DefaultECGOptions()
	o.NoiseMV, o.WanderMV, o.MainsMV, o.MainsHz, o.ArtifactsPerMin = 0, 0, 0, 0, 0
	return o
}

// measuredHR is the mean heart rate of beat times: beats/min over the span
// from the first to the last.
func measuredHR(beats []float64) float64 {
	if len(beats) < 2 {
		return 0
	}
	return 60 * float64(len(beats)-1) / (beats[len(beats)-1] - beats[0])
}

func durSeconds(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = d.Seconds()
	}
	return out
}

// detectPeaks is a deliberately simple R-peak detector: a local maximum
// above thr, at least refractory seconds after the previous one (a higher
// maximum within the refractory period replaces it).
func detectPeaks(x []float64, rate, thr, refractory float64) []float64 {
	var peaks []float64
	var vals []float64
	for i := 1; i+1 < len(x); i++ {
		if x[i] < thr || x[i] < x[i-1] || x[i] < x[i+1] {
			continue
		}
		t := float64(i) / rate
		if n := len(peaks); n > 0 && t-peaks[n-1] < refractory {
			if x[i] > vals[n-1] {
				peaks[n-1], vals[n-1] = t, x[i]
			}
			continue
		}
		peaks = append(peaks, t)
		vals = append(vals, x[i])
	}
	return peaks
}
