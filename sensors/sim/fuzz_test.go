package sim

import (
	"errors"
	"math"
	"testing"
	"time"
)

// FuzzOptions feeds arbitrary option values (as a configuration file
// could) to the constructors: each either refuses them with ErrOption or
// produces finite samples. Seeds come from the table tests.
func FuzzOptions(f *testing.F) {
	f.Add(int64(1), 72.0, 0.05, 97.0, 500.0, 0.02, 50.0, 0.5, 100.0, 2.0, 1.0, int64(0), int64(0))
	f.Add(int64(7), 19.0, -0.01, 101.0, 249.0, -1.0, 55.0, 61.0, 24.0, 25.0, 0.001, int64(-1), int64(1))
	f.Add(int64(3), 300.0, 0.5, 50.0, 1000.0, 2.0, 60.0, 60.0, 400.0, 0.1, 100.0, int64(time.Second), int64(time.Hour))
	f.Add(int64(0), math.NaN(), math.Inf(1), 0.0, math.NaN(), math.Inf(-1), 0.0, 0.0, math.NaN(), 20.0, 0.0, int64(math.MaxInt64), int64(1))
	f.Fuzz(func(t *testing.T, seed int64, hr, hrv, spo2, ecgRate, noise, mainsHz, artPerMin, ppgRate, pi, tempRate float64, at, dur int64) {
		p, err := NewPatient(PatientOptions{
			Seed: seed, HeartRate: hr, HRVStd: hrv, SpO2: spo2,
			Changes: []Change{{At: time.Duration(max(at, 0)), HeartRate: hr, SpO2: spo2}},
		})
		if err != nil {
			if !errors.Is(err, ErrOption) {
				t.Fatalf("NewPatient error without ErrOption: %v", err)
			}
			return
		}
		fs := []Fault{{Kind: Dropout, At: time.Duration(at), For: time.Duration(dur)}}
		rnd := RandomFaults{PerHour: artPerMin * 60, MeanFor: time.Duration(dur)}
		check := func(what string, err error, vals ...[]float64) {
			if err != nil {
				if !errors.Is(err, ErrOption) {
					t.Fatalf("%s error without ErrOption: %v", what, err)
				}
				return
			}
			for _, v := range vals {
				for i, x := range v {
					if math.IsNaN(x) || math.IsInf(x, 0) {
						t.Fatalf("%s sample %d = %v", what, i, x)
					}
				}
			}
		}
		d, r, v := make([]float64, 300), make([]float64, 300), make([]bool, 300)

		e, err := p.ECG(ECGOptions{Rate: ecgRate, NoiseMV: noise, MainsHz: mainsHz, MainsMV: noise,
			ArtifactsPerMin: artPerMin, Faults: fs, Random: rnd})
		if err == nil {
			e.Read(d, v)
		}
		check("ECG", err, d)

		s, err := p.PPG(PPGOptions{Rate: ppgRate, PerfusionIndex: pi, NoiseCounts: noise,
			ArtifactsPerMin: artPerMin, Faults: fs, Random: rnd})
		if err == nil {
			s.Read(d, r, v)
		}
		check("PPG", err, d, r)

		tm, err := p.Temp(TempOptions{Rate: tempRate, NoiseC: noise, Faults: fs, Random: rnd})
		if err == nil {
			tm.Read(d, v)
		}
		check("Temp", err, d)
	})
}
