package sim

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// pulseRatios measures each pulse of a PPG the way a textbook SpO2
// algorithm does: AC from peak to trough, DC from the mean, over the
// windows between consecutive pulse feet (true beats + PTT). It returns
// the per-pulse ratio of ratios and IR perfusion index for pulses whose
// window lies in [from, to) seconds.
func pulseRatios(p *Patient, red, ir []float64, rate float64, ptt time.Duration, from, to float64) (rs, pis []float64) {
	beats := durSeconds(p.Beats(0, time.Duration(to*1e9)))
	for k := 1; k < len(beats); k++ {
		a, b := beats[k-1]+ptt.Seconds(), beats[k]+ptt.Seconds()
		if a < from || b >= to {
			continue
		}
		i, j := int(math.Ceil(a*rate)), int(math.Ceil(b*rate))
		if j > len(ir) {
			break
		}
		acR, dcR := slices.Max(red[i:j])-slices.Min(red[i:j]), mean(red[i:j])
		acI, dcI := slices.Max(ir[i:j])-slices.Min(ir[i:j]), mean(ir[i:j])
		rs = append(rs, (acR/dcR)/(acI/dcI))
		pis = append(pis, acI/dcI)
	}
	return rs, pis
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func TestPPGRatioOfRatios(t *testing.T) {
	for _, c := range []struct {
		spo2, pi, rate, noise float64
		cal                   Calibration
	}{
		{97, 2, 100, 20, Calibration{}},
		{100, 5, 50, 20, Calibration{}},
		{85, 1, 100, 20, DefaultCalibration},
		// Peak-to-trough picks up the noise's extremes and the respiratory
		// drift, so a weak pulse needs a quiet, still sensor for this
		// plain estimator (noise 0 below also turns respiration off).
		{70, 0.5, 400, 0, Calibration{}},
		{92, 3, 25, 20, Calibration{A: 104, B: 17}},
	} {
		po := DefaultPatientOptions()
		po.SpO2 = c.spo2
		p := mustPatient(t, po)
		o := DefaultPPGOptions()
		o.Rate, o.PerfusionIndex, o.Calibration, o.NoiseCounts = c.rate, c.pi, c.cal, c.noise
		if c.noise == 0 {
			o.RespModFrac = 0
		}
		cal := c.cal
		if cal == (Calibration{}) {
			cal = DefaultCalibration
		}
		const dur = 60
		red, ir, _ := readPPG(mustPPG(t, p, o), int(dur*c.rate))
		rs, pis := pulseRatios(p, red, ir, c.rate, o.PTT, 1, dur)
		if len(rs) < 50 {
			t.Fatalf("SpO2 %g: only %d pulses", c.spo2, len(rs))
		}
		got := cal.SpO2(mean(rs))
		t.Logf("SpO2 %g: measured %.3f, PI %.4f", c.spo2, got, 100*mean(pis))
		if math.Abs(got-c.spo2) > 0.01*c.spo2 {
			t.Errorf("SpO2 %g at %g Hz, PI %g %%: the red/IR gives %.2f %% through %+v", c.spo2, c.rate, c.pi, got, cal)
		}
		if pi := 100 * mean(pis); math.Abs(pi-c.pi) > 0.1*c.pi {
			t.Errorf("PI %g %%: measured %.3f %%", c.pi, pi)
		}
	}
}

func TestPPGDesaturation(t *testing.T) {
	po := DefaultPatientOptions()
	po.Changes = []Change{
		{At: 30 * time.Second, Ramp: 10 * time.Second, SpO2: 82},
		{At: 70 * time.Second, Ramp: 10 * time.Second, SpO2: 97},
	}
	p := mustPatient(t, po)
	o := DefaultPPGOptions()
	red, ir, _ := readPPG(mustPPG(t, p, o), 100*100)
	for _, w := range []struct{ from, to, want float64 }{{1, 29, 97}, {42, 69, 82}, {82, 99, 97}} {
		rs, _ := pulseRatios(p, red, ir, o.Rate, o.PTT, w.from, w.to)
		if got := DefaultCalibration.SpO2(mean(rs)); math.Abs(got-w.want) > 0.01*w.want {
			t.Errorf("SpO2 in [%g, %g) s measured %.2f %%, want %g", w.from, w.to, got, w.want)
		}
	}
}

// TestPPGFollowsBeats checks that each pulse comes a pulse transit time
// after its R peak: the IR trough (the pulse's peak, as blood absorbs)
// moves by exactly the change of PTT.
func TestPPGFollowsBeats(t *testing.T) {
	po := DefaultPatientOptions()
	p := mustPatient(t, po)
	const rate = 400
	lag := func(ptt time.Duration) float64 {
		o := DefaultPPGOptions()
		o.Rate, o.PTT, o.NoiseCounts, o.RespModFrac = rate, ptt, 0, 0
		_, ir, _ := readPPG(mustPPG(t, p, o), 60*rate)
		beats := durSeconds(p.Beats(0, 60*time.Second))
		var lags []float64
		for k := 0; k+1 < len(beats); k++ {
			i, j := int(beats[k]*rate), int(beats[k+1]*rate)
			m := i + slices.Index(ir[i:j], slices.Min(ir[i:j]))
			lags = append(lags, float64(m)/rate-beats[k])
		}
		return mean(lags)
	}
	l200, l300 := lag(200*time.Millisecond), lag(300*time.Millisecond)
	if d := l300 - l200; math.Abs(d-0.1) > 0.005 {
		t.Errorf("PTT 200 → 300 ms moves the pulse by %.4f s", d)
	}
	// The systolic peak is about a sixth of a cycle after the foot.
	if rr := 60 / po.HeartRate; l200 < 0.2+0.1*rr || l200 > 0.2+0.3*rr {
		t.Errorf("pulse peak %.3f s after the R peak", l200)
	}
}

func TestPPGDeterministic(t *testing.T) {
	p := mustPatient(t, DefaultPatientOptions())
	o := DefaultPPGOptions()
	o.ArtifactsPerMin = 2
	r1, i1, v1 := readPPG(mustPPG(t, p, o), 3000)
	s := mustPPG(t, mustPatient(t, DefaultPatientOptions()), o)
	r2, i2, v2 := make([]float64, 3000), make([]float64, 3000), make([]bool, 3000)
	for off := 0; off < 3000; off += 7 {
		e := min(off+7, 3000)
		s.Read(r2[off:e], i2[off:e], v2[off:e])
	}
	if !slices.Equal(f64bits(r1), f64bits(r2)) || !slices.Equal(f64bits(i1), f64bits(i2)) || !slices.Equal(v1, v2) {
		t.Fatal("same options, different samples")
	}
	po := DefaultPatientOptions()
	po.Seed = 99
	r3, _, _ := readPPG(mustPPG(t, mustPatient(t, po), o), 3000)
	if slices.Equal(f64bits(r1), f64bits(r3)) {
		t.Fatal("different seeds, same samples")
	}
}

func TestPPGOptionsRefused(t *testing.T) {
	p := mustPatient(t, DefaultPatientOptions())
	for _, c := range []struct {
		name string
		edit func(*PPGOptions)
		want string
	}{
		{"rate low", func(o *PPGOptions) { o.Rate = 24 }, "PPGOptions.Rate = 24 Hz, allowed 25 to 400 Hz"},
		{"rate high", func(o *PPGOptions) { o.Rate = 401 }, "PPGOptions.Rate"},
		{"rate NaN", func(o *PPGOptions) { o.Rate = math.NaN() }, "PPGOptions.Rate"},
		{"pi", func(o *PPGOptions) { o.PerfusionIndex = 25 }, "PPGOptions.PerfusionIndex"},
		{"dc over full scale", func(o *PPGOptions) { o.DCIR = 300000 }, "PPGOptions.DCIR"},
		{"ptt", func(o *PPGOptions) { o.PTT = time.Second }, "PPGOptions.PTT"},
		{"calibration", func(o *PPGOptions) { o.Calibration = Calibration{A: 95, B: 25} }, "PPGOptions.Calibration 95"},
		{"fault", func(o *PPGOptions) { o.Random.Kinds = []FaultKind{0} }, "PPGOptions.Random.Kinds[0]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := DefaultPPGOptions()
			c.edit(&o)
			_, err := p.PPG(o)
			if err == nil || !errors.Is(err, ErrOption) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrOption with %q", err, c.want)
			}
		})
	}
}

func TestPPGReadAllocs(t *testing.T) {
	p := mustPatient(t, DefaultPatientOptions())
	o := DefaultPPGOptions()
	o.ArtifactsPerMin = 10
	s := mustPPG(t, p, o)
	r, i, v := make([]float64, 100), make([]float64, 100), make([]bool, 100)
	if a := testing.AllocsPerRun(200, func() { s.Read(r, i, v) }); a != 0 {
		t.Errorf("PPG.Read allocates %.1f times per call", a)
	}
}
