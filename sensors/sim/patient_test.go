package sim

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBeatsDeterministic(t *testing.T) {
	a := mustPatient(t, DefaultPatientOptions()).Beats(0, time.Minute)
	b := mustPatient(t, DefaultPatientOptions()).Beats(0, time.Minute)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different beats")
	}
	o := DefaultPatientOptions()
	o.Seed = 2
	c := mustPatient(t, o).Beats(0, time.Minute)
	if slices.Equal(a, c) {
		t.Fatal("different seeds, same beats")
	}
}

func TestBeatsWindow(t *testing.T) {
	p := mustPatient(t, DefaultPatientOptions())
	all := p.Beats(0, 2*time.Minute)
	if len(all) < 100 {
		t.Fatalf("%d beats in 2 min at 72 bpm", len(all))
	}
	// Any window returns exactly the beats of the whole list inside it.
	for _, w := range [][2]time.Duration{{0, time.Second}, {10 * time.Second, 70 * time.Second}, {all[5], all[9]}, {all[5] + 1, all[9] + 1}} {
		got := p.Beats(w[0], w[1])
		var want []time.Duration
		for _, b := range all {
			if b >= w[0] && b < w[1] {
				want = append(want, b)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("Beats(%v, %v) = %v, want %v", w[0], w[1], got, want)
		}
	}
	if got := p.Beats(-time.Hour, 0); got != nil {
		t.Errorf("Beats before 0 = %v, want none", got)
	}
	if all[0] < 0 || all[0] >= seconds(60.0/72) {
		t.Errorf("first beat at %v, want within the first RR", all[0])
	}
}

func TestBeatsHeartRate(t *testing.T) {
	for _, hr := range []float64{30, 45, 72, 120, 180, 250} {
		for _, hrv := range []float64{0, 0.05} {
			o := DefaultPatientOptions()
			o.HeartRate, o.HRVStd = hr, hrv
			p := mustPatient(t, o)
			beats := durSeconds(p.Beats(0, 5*time.Minute))
			if got := measuredHR(beats); math.Abs(got-hr) > 2 {
				t.Errorf("HR %g HRV %g: measured %.2f bpm from the beats", hr, hrv, got)
			}
			// The RR intervals vary as configured (scaled to the mean RR).
			var rr []float64
			for i := 1; i < len(beats); i++ {
				rr = append(rr, beats[i]-beats[i-1])
			}
			sd := stddev(rr)
			want := hrv
			if hrv == 0 && sd > 1e-9 {
				t.Errorf("HR %g: RR std %.4f s without HRV", hr, sd)
			}
			// Clamping to ±40 % of the mean trims the tails at high rates.
			if hrv != 0 && hr <= 120 && (sd < 0.6*want || sd > 1.4*want) {
				t.Errorf("HR %g: RR std %.4f s, want about %.3f", hr, sd, want)
			}
		}
	}
}

func stddev(x []float64) float64 {
	var m float64
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	var s float64
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(x)))
}

func TestChangesTachycardia(t *testing.T) {
	o := DefaultPatientOptions()
	o.Changes = []Change{
		{At: time.Minute, Ramp: 20 * time.Second, HeartRate: 140},
		{At: 3 * time.Minute, HeartRate: 72, SpO2: 88},
	}
	p := mustPatient(t, o)
	for _, c := range []struct {
		from, to time.Duration
		hr       float64
	}{
		{0, time.Minute, 72},
		{80 * time.Second, 3 * time.Minute, 140},
		{3 * time.Minute, 5 * time.Minute, 72},
	} {
		got := measuredHR(durSeconds(p.Beats(c.from, c.to)))
		if math.Abs(got-c.hr) > 2 {
			t.Errorf("HR in [%v, %v) = %.1f, want %g", c.from, c.to, got, c.hr)
		}
	}
	if sp := p.SetPoint(70 * time.Second); math.Abs(sp.HeartRate-106) > 1e-9 || sp.SpO2 != 97 {
		t.Errorf("SetPoint mid-ramp = %+v, want HR 106, SpO2 97", sp)
	}
	if sp := p.SetPoint(4 * time.Minute); sp.HeartRate != 72 || sp.SpO2 != 88 || sp.TempC != DefaultTempC {
		t.Errorf("SetPoint after = %+v", sp)
	}
}

func TestChangeDuringRamp(t *testing.T) {
	o := DefaultPatientOptions()
	o.HeartRate = 60
	o.Changes = []Change{
		{At: 10 * time.Second, Ramp: 10 * time.Second, HeartRate: 160},
		{At: 15 * time.Second, Ramp: 10 * time.Second, HeartRate: 60},
	}
	p := mustPatient(t, o)
	// The second change starts from where the first ramp got to (110).
	for _, c := range []struct {
		at time.Duration
		hr float64
	}{{15 * time.Second, 110}, {20 * time.Second, 85}, {25 * time.Second, 60}} {
		if got := p.SetPoint(c.at).HeartRate; math.Abs(got-c.hr) > 1e-9 {
			t.Errorf("HR at %v = %g, want %g", c.at, got, c.hr)
		}
	}
}

func TestPatientOptionsRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*PatientOptions)
		want string
	}{
		{"hr low", func(o *PatientOptions) { o.HeartRate = 19 }, "PatientOptions.HeartRate"},
		{"hr high", func(o *PatientOptions) { o.HeartRate = 301 }, "PatientOptions.HeartRate"},
		{"hr NaN", func(o *PatientOptions) { o.HeartRate = math.NaN() }, "PatientOptions.HeartRate"},
		{"hrv", func(o *PatientOptions) { o.HRVStd = -0.01 }, "PatientOptions.HRVStd"},
		{"spo2", func(o *PatientOptions) { o.SpO2 = 101 }, "PatientOptions.SpO2"},
		{"temp", func(o *PatientOptions) { o.TempC = 46 }, "PatientOptions.TempC"},
		{"resp", func(o *PatientOptions) { o.RespRate = math.Inf(1) }, "PatientOptions.RespRate"},
		{"lfhf", func(o *PatientOptions) { o.LFHFRatio = 20 }, "PatientOptions.LFHFRatio"},
		{"unsorted", func(o *PatientOptions) {
			o.Changes = []Change{{At: 2 * time.Second, SpO2: 90}, {At: time.Second, SpO2: 95}}
		}, "Changes[1].At"},
		{"empty change", func(o *PatientOptions) { o.Changes = []Change{{At: time.Second}} }, "Changes[0] changes nothing"},
		{"change hr", func(o *PatientOptions) { o.Changes = []Change{{HeartRate: 400}} }, "Changes[0].HeartRate"},
		{"change ramp", func(o *PatientOptions) { o.Changes = []Change{{Ramp: -1, SpO2: 90}} }, "Changes[0].Ramp"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := DefaultPatientOptions()
			c.edit(&o)
			_, err := NewPatient(o)
			if err == nil || !errors.Is(err, ErrOption) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrOption naming %s", err, c.want)
			}
		})
	}
}

func TestPatientDefaults(t *testing.T) {
	p := mustPatient(t, PatientOptions{})
	got := p.Options()
	if got.HeartRate != DefaultHeartRate || got.SpO2 != DefaultSpO2 || got.TempC != DefaultTempC || got.RespRate != DefaultRespRate || got.HRVStd != 0 {
		t.Errorf("defaults = %+v", got)
	}
}

// TestHRVSpectrum checks the RR tachogram's spectrum: power in the LF band
// (0.04–0.15 Hz) and in the HF band around the respiration rate, in the
// configured ratio, and little elsewhere. One 20-minute realisation's
// LF/HF scatters by about ±20 % (random phases, as in McSharry et al.),
// so the band powers are summed over several seeds.
func TestHRVSpectrum(t *testing.T) {
	for _, c := range []struct{ lfhf, resp float64 }{{0.5, 15}, {2, 12}, {1, 20}} {
		var lf, hf, rest float64
		for seed := int64(1); seed <= 6; seed++ {
			o := DefaultPatientOptions()
			o.Seed, o.HeartRate, o.HRVStd, o.LFHFRatio, o.RespRate = seed, 60, 0.05, c.lfhf, c.resp
			beats := durSeconds(mustPatient(t, o).Beats(0, 20*time.Minute))
			// The tachogram is sampled once per mean RR (1 s at 60 bpm):
			// the RR series by beat number is evenly spaced on the HRV clock.
			var rr []float64
			for k := 1; k < len(beats); k++ {
				rr = append(rr, beats[k]-beats[k-1])
			}
			hfc := c.resp / 60
			lf += bandPower(rr, 1, 0.04, 0.15)
			hf += bandPower(rr, 1, hfc-0.05, hfc+0.05)
			rest += bandPower(rr, 1, 0.003, 0.04) + bandPower(rr, 1, 0.15, hfc-0.05) + bandPower(rr, 1, hfc+0.05, 0.5)
		}
		if got := lf / hf; got < c.lfhf*0.8 || got > c.lfhf*1.25 {
			t.Errorf("LF/HF %g: measured %.2f", c.lfhf, got)
		}
		if rest > 0.1*(lf+hf) {
			t.Errorf("LF/HF %g: %.0f %% of the power outside the bands", c.lfhf, 100*rest/(lf+hf))
		}
	}
}

// bandPower is the periodogram of x (sampled at fs) summed over [lo, hi) Hz.
func bandPower(x []float64, fs, lo, hi float64) float64 {
	m := mean(x)
	n := float64(len(x))
	var p float64
	for bin := int(math.Ceil(lo * n / fs)); float64(bin) < hi*n/fs; bin++ {
		var re, im float64
		for i, v := range x {
			s, co := math.Sincos(2 * math.Pi * float64(bin) * float64(i) / n)
			re += (v - m) * co
			im += (v - m) * s
		}
		p += re*re + im*im
	}
	return p
}
