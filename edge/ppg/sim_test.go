package ppg

import (
	"math"
	"testing"
	"time"

	"medagent/sensors/sim"
)

// TestSimulatedPatients runs the processor on sensors/sim, whose patients
// know their true beat times and SpO2: inverted MAX3010x-style pulses,
// heart rate variability, respiratory wander, white noise.
func TestSimulatedPatients(t *testing.T) {
	for _, c := range []struct {
		name            string
		hr, spo2, rate  float64
		hrv, noise, rsp float64
		faults          []sim.Fault
		changes         []sim.Change
		wantSpO2        float64
		lost            int // beats a drop-out hides
	}{
		{name: "rest", hr: 72, spo2: 97, rate: 100, hrv: 0.05, noise: 20, rsp: 0.01, wantSpO2: 97},
		{name: "tachycardia hypoxia", hr: 130, spo2: 88, rate: 100, hrv: 0.05, noise: 20, rsp: 0.02, wantSpO2: 88},
		{name: "bradycardia", hr: 45, spo2: 82, rate: 100, hrv: 0.03, noise: 50, rsp: 0.02, wantSpO2: 82},
		{name: "180/min at 50 Hz", hr: 180, spo2: 95, rate: 50, hrv: 0.02, noise: 20, rsp: 0.01, wantSpO2: 95},
		{name: "400 Hz", hr: 80, spo2: 99, rate: 400, hrv: 0.05, noise: 20, rsp: 0.01, wantSpO2: 99},
		{name: "desaturation ramp", hr: 75, spo2: 97, rate: 100, hrv: 0.05, noise: 20, rsp: 0.01,
			changes: []sim.Change{{At: 20 * time.Second, Ramp: 20 * time.Second, SpO2: 84}}, wantSpO2: 84},
		{name: "probe off and drop-outs", hr: 72, spo2: 93, rate: 100, hrv: 0.05, noise: 20, rsp: 0.01,
			faults: []sim.Fault{
				{Kind: sim.LeadOff, At: 15 * time.Second, For: 5 * time.Second},
				{Kind: sim.Dropout, At: 30 * time.Second, For: 500 * time.Millisecond},
			}, wantSpO2: 93, lost: 2}, // 0.5 s gap, 1 s of filter settling
	} {
		t.Run(c.name, func(t *testing.T) {
			pat, err := sim.NewPatient(sim.PatientOptions{
				Seed: 7, HeartRate: c.hr, HRVStd: c.hrv, SpO2: c.spo2, TempC: 37, RespRate: 15,
				Changes: c.changes,
			})
			if err != nil {
				t.Fatal(err)
			}
			g, err := pat.PPG(sim.PPGOptions{Rate: c.rate, NoiseCounts: c.noise, RespModFrac: c.rsp, Faults: c.faults})
			if err != nil {
				t.Fatal(err)
			}
			p := newP(t, func(cfg *Config) { cfg.Rate = c.rate })
			n := int(c.rate)
			red, ir, valid := make([]float64, n), make([]float64, n), make([]bool, n)
			var r Result
			var peaks []float64 // seconds
			for s := 0; s < 60; s++ {
				if g.Read(red, ir, valid) != n {
					t.Fatal("short read")
				}
				for i := range n {
					r = p.Push(red[i], ir[i], valid[i])
					if r.Beat {
						peaks = append(peaks, float64(s)+float64(i)/c.rate-r.BeatDelay)
					}
					if s >= 15 && s < 20 && r.RateValid && float64(i)/c.rate > 3.1 {
						t.Fatalf("t=%d s: values still valid more than 3 s into probe off", s)
					}
				}
			}
			// Every true beat from 25 s on has one pulse a constant delay
			// later (PTT, and where in the inverted pulse the peak is).
			truth := pat.Beats(25*time.Second, 59*time.Second)
			rs := make([]int, len(truth))
			for i, b := range truth {
				rs[i] = int(b.Seconds() * c.rate)
			}
			var inWin []float64
			for _, pk := range peaks {
				if pk >= truth[0].Seconds() && pk < truth[len(truth)-1].Seconds()+0.5 {
					inWin = append(inWin, pk*c.rate)
				}
			}
			lag, found := matchBeats(rs, inWin, c.rate)
			lagS := lag / c.rate
			// The true rate over the eight beats behind the last pulse.
			all := pat.Beats(0, time.Duration((peaks[len(peaks)-1]-lagS+0.01)*float64(time.Second)))
			want := 60 * 8 / (all[len(all)-1] - all[len(all)-9]).Seconds()
			t.Logf("beats %d/%d found, %d pulses, delay %.0f ms; rate %.1f (true %.1f); SpO2 %.2f; PI %.2f; motion %v",
				found, len(truth), len(inWin), lagS*1000, r.PulseRate, want, r.SpO2, r.PI, r.Motion)
			if found < len(truth)-1-c.lost || len(inWin) > found+1 {
				t.Errorf("%d of %d beats found, %d pulses", found, len(truth), len(inWin))
			}
			if !r.RateValid || math.Abs(r.PulseRate-want) > 0.05*want {
				t.Errorf("rate %.1f (valid %v), want %.1f ± 5 %%", r.PulseRate, r.RateValid, want)
			}
			if !r.SpO2Valid || math.Abs(r.SpO2-c.wantSpO2) > 1 {
				t.Errorf("SpO2 %.2f (valid %v), want %.0f ± 1", r.SpO2, r.SpO2Valid, c.wantSpO2)
			}
			if r.ProbeOff || r.LowPerfusion {
				t.Errorf("flags: %+v", r)
			}
		})
	}
}
