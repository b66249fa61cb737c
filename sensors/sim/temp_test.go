package sim

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func mustTemp(t testing.TB, p *Patient, o TempOptions) *Temp {
	t.Helper()
	s, err := p.Temp(o)
	if err != nil {
		t.Fatalf("Temp: %v", err)
	}
	return s
}

func TestTempMean(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		for _, want := range []float64{36.8, 38.5} {
			po := DefaultPatientOptions()
			po.Seed, po.TempC = seed, want
			s := mustTemp(t, mustPatient(t, po), DefaultTempOptions())
			n := 2 * 3600
			d, v := make([]float64, n), make([]bool, n)
			s.Read(d, v)
			if m := mean(d); math.Abs(m-want) > 0.1 {
				t.Errorf("seed %d: mean %.3f °C over 2 h, want %g", seed, m, want)
			}
			sd := stddev(d)
			if sd < 0.02 || sd > 0.15 {
				t.Errorf("seed %d: std %.3f °C, want drift of about 0.05", seed, sd)
			}
			for i, x := range d {
				if q := x / 0.0078125; q != math.Round(q) {
					t.Fatalf("sample %d = %v not on the 0.0078125 °C grid", i, x)
				}
			}
		}
	}
}

func TestTempFever(t *testing.T) {
	po := DefaultPatientOptions()
	po.Changes = []Change{{At: 10 * time.Minute, Ramp: 30 * time.Minute, TempC: 39.5}}
	p := mustPatient(t, po)
	o := DefaultTempOptions()
	o.DriftC = 0.02
	s := mustTemp(t, p, o)
	n := 60 * 60
	d, v := make([]float64, n), make([]bool, n)
	s.Read(d, v)
	for _, w := range []struct{ from, to int }{{0, 600}, {1500, 1700}, {2500, 3600}} {
		want := 0.0
		for i := w.from; i < w.to; i++ {
			want += p.SetPoint(time.Duration(i) * time.Second).TempC
		}
		want /= float64(w.to - w.from)
		if m := mean(d[w.from:w.to]); math.Abs(m-want) > 0.08 {
			t.Errorf("mean over [%d, %d) s = %.3f °C, set point %.3f", w.from, w.to, m, want)
		}
	}
}

func TestTempOptionsRefused(t *testing.T) {
	p := mustPatient(t, DefaultPatientOptions())
	for _, c := range []struct {
		edit func(*TempOptions)
		want string
	}{
		{func(o *TempOptions) { o.Rate = 0.001 }, "TempOptions.Rate = 0.001 Hz, allowed 0.01 to 100 Hz"},
		{func(o *TempOptions) { o.Rate = 101 }, "TempOptions.Rate"},
		{func(o *TempOptions) { o.NoiseC = 1 }, "TempOptions.NoiseC"},
		{func(o *TempOptions) { o.DriftTau = time.Millisecond }, "TempOptions.DriftTau"},
		{func(o *TempOptions) { o.Faults = []Fault{{Kind: LeadOff, For: time.Second}} }, "TempOptions.Faults[0].Kind = lead-off"},
	} {
		o := DefaultTempOptions()
		c.edit(&o)
		_, err := p.Temp(o)
		if err == nil || !errors.Is(err, ErrOption) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want ErrOption with %q", err, c.want)
		}
	}
}
