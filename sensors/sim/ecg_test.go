package sim

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestECGDeterministic(t *testing.T) {
	const n = 5000
	p := mustPatient(t, DefaultPatientOptions())
	a, av := readECG(mustECG(t, p, DefaultECGOptions()), n)

	// Same options, another patient value: bit-identical.
	b, bv := readECG(mustECG(t, mustPatient(t, DefaultPatientOptions()), DefaultECGOptions()), n)
	if !slices.Equal(f64bits(a), f64bits(b)) || !slices.Equal(av, bv) {
		t.Fatal("same options, different samples")
	}

	// However the reads are split.
	e := mustECG(t, p, DefaultECGOptions())
	c, cv := make([]float64, n), make([]bool, n)
	for off, k := 0, 1; off < n; k = k*3 + 1 {
		off += e.Read(c[off:min(off+k, n)], cv[off:min(off+k, n)])
	}
	if !slices.Equal(f64bits(a), f64bits(c)) || !slices.Equal(av, cv) {
		t.Fatal("split reads give different samples")
	}

	// Another seed: another signal.
	o := DefaultPatientOptions()
	o.Seed = 7
	d, _ := readECG(mustECG(t, mustPatient(t, o), DefaultECGOptions()), n)
	same := 0
	for i := range a {
		if a[i] == d[i] {
			same++
		}
	}
	if same > n/100 {
		t.Fatalf("seeds 1 and 7 share %d of %d samples", same, n)
	}

	// Making another stream of the same patient changes nothing here.
	mustPPG(t, p, DefaultPPGOptions())
	f, _ := readECG(mustECG(t, p, DefaultECGOptions()), n)
	if !slices.Equal(f64bits(a), f64bits(f)) {
		t.Fatal("a PPG stream changed the ECG")
	}
}

func f64bits(x []float64) []uint64 {
	out := make([]uint64, len(x))
	for i, v := range x {
		out[i] = math.Float64bits(v)
	}
	return out
}

// TestECGHeartRate checks the waveform against the ground truth: a plain
// peak detector finds one R peak per true beat, where the beat is, and the
// rate it measures is the configured one.
func TestECGHeartRate(t *testing.T) {
	for _, c := range []struct {
		hr, rate float64
	}{{40, 250}, {72, 500}, {110, 1000}, {180, 500}} {
		po := DefaultPatientOptions()
		po.HeartRate = c.hr
		p := mustPatient(t, po)
		o := DefaultECGOptions()
		o.Rate, o.ArtifactsPerMin = c.rate, 0
		const dur = 3 * time.Minute
		x, _ := readECG(mustECG(t, p, o), int(dur.Seconds()*c.rate))
		truth := durSeconds(p.Beats(0, dur))
		peaks := detectPeaks(x, c.rate, 0.6, 0.15)

		if got := measuredHR(truth); math.Abs(got-c.hr) > 2 {
			t.Errorf("HR %g: ground truth beats give %.2f bpm", c.hr, got)
		}
		if got := measuredHR(peaks); math.Abs(got-c.hr) > 2 {
			t.Errorf("HR %g: peaks on the waveform give %.2f bpm", c.hr, got)
		}
		if len(peaks) != len(truth) {
			t.Errorf("HR %g: %d peaks on the waveform, %d true beats", c.hr, len(peaks), len(truth))
			continue
		}
		for i := range peaks {
			if d := math.Abs(peaks[i] - truth[i]); d > 0.008 {
				t.Errorf("HR %g: peak %d at %.4f s, true beat at %.4f s", c.hr, i, peaks[i], truth[i])
				break
			}
		}
	}
}

// TestECGAmplitude checks the R-wave height above the isoelectric line
// (taken in the TP segment) at every true beat.
func TestECGAmplitude(t *testing.T) {
	for _, amp := range []float64{0, 1.5, 0.5} {
		want := amp
		if amp == 0 {
			want = DefaultAmplitudeMV
		}
		p := mustPatient(t, DefaultPatientOptions())
		o := quietECG()
		o.AmplitudeMV = amp
		const rate = 500
		x, _ := readECG(mustECG(t, p, o), 60*rate)
		for _, b := range durSeconds(p.Beats(500*time.Millisecond, 59*time.Second)) {
			i := int(math.Round(b * rate))
			r := slices.Max(x[i-2 : i+3])
			iso := x[i-int(0.3*rate)]
			if h := r - iso; math.Abs(h-want) > 0.1*want {
				t.Fatalf("amplitude %g: R at %.3f s is %.3f mV above the baseline, want %g ±10%%", amp, b, h, want)
			}
			if amp == 0 && (r < 0.9 || r > 1.5) {
				t.Fatalf("default R peak at %.3f s is %.3f mV, want 0.9–1.5", b, r)
			}
		}
	}
}

// TestECGInterference checks that each interference shows up at its own
// frequency and size, by projecting the difference from the quiet signal
// on a sine and cosine.
func TestECGInterference(t *testing.T) {
	p := mustPatient(t, DefaultPatientOptions())
	const rate, n = 500, 500 * 40
	quiet, _ := readECG(mustECG(t, p, quietECG()), n)
	for _, c := range []struct {
		name string
		edit func(*ECGOptions)
		hz   float64
		amp  float64
	}{
		{"mains 50", func(o *ECGOptions) { o.MainsHz, o.MainsMV = 50, 0.1 }, 50, 0.1},
		{"mains 60", func(o *ECGOptions) { o.MainsHz, o.MainsMV = 60, 0.05 }, 60, 0.05},
		{"wander", func(o *ECGOptions) { o.WanderMV, o.WanderHz = 0.3, 0.25 }, 0.25, 0.3},
	} {
		o := quietECG()
		c.edit(&o)
		x, _ := readECG(mustECG(t, p, o), n)
		var s, co float64
		for i := range x {
			w := 2 * math.Pi * c.hz * float64(i) / rate
			s += (x[i] - quiet[i]) * math.Sin(w)
			co += (x[i] - quiet[i]) * math.Cos(w)
		}
		if got := 2 * math.Hypot(s, co) / n; math.Abs(got-c.amp) > 0.02*c.amp {
			t.Errorf("%s: amplitude %.4f mV at %g Hz, want %g", c.name, got, c.hz, c.amp)
		}
	}

	o := quietECG()
	o.NoiseMV = 0.05
	x, _ := readECG(mustECG(t, p, o), n)
	d := make([]float64, n)
	for i := range x {
		d[i] = x[i] - quiet[i]
	}
	if sd := stddev(d); math.Abs(sd-0.05) > 0.002 {
		t.Errorf("noise std %.4f mV, want 0.05", sd)
	}
}

func TestECGArtifacts(t *testing.T) {
	p := mustPatient(t, DefaultPatientOptions())
	const rate, n = 500, 500 * 600
	quiet, _ := readECG(mustECG(t, p, quietECG()), n)
	o := quietECG()
	o.ArtifactsPerMin, o.ArtifactMV = 6, 1
	x, _ := readECG(mustECG(t, p, o), n)
	// Count onsets: the difference leaves zero by more than 0.05 mV after
	// at least 2 s near zero. About 60 in 10 minutes.
	onsets, quietFor := 0, 1000
	for i := range x {
		if math.Abs(x[i]-quiet[i]) > 0.05 {
			if quietFor >= 2*rate {
				onsets++
			}
			quietFor = 0
		} else {
			quietFor++
		}
	}
	if onsets < 30 || onsets > 70 {
		t.Errorf("%d artefact onsets in 10 min at 6/min", onsets)
	}
}

func TestECGOptionsRefused(t *testing.T) {
	p := mustPatient(t, DefaultPatientOptions())
	for _, c := range []struct {
		name string
		edit func(*ECGOptions)
		want string
	}{
		{"rate low", func(o *ECGOptions) { o.Rate = 249 }, "ECGOptions.Rate = 249 Hz, allowed 250 to 1000 Hz"},
		{"rate high", func(o *ECGOptions) { o.Rate = 1001 }, "ECGOptions.Rate = 1001 Hz"},
		{"rate negative", func(o *ECGOptions) { o.Rate = -500 }, "ECGOptions.Rate"},
		{"rate NaN", func(o *ECGOptions) { o.Rate = math.NaN() }, "ECGOptions.Rate"},
		{"rate Inf", func(o *ECGOptions) { o.Rate = math.Inf(1) }, "ECGOptions.Rate"},
		{"amplitude", func(o *ECGOptions) { o.AmplitudeMV = 6 }, "ECGOptions.AmplitudeMV"},
		{"noise", func(o *ECGOptions) { o.NoiseMV = -1 }, "ECGOptions.NoiseMV"},
		{"mains 55", func(o *ECGOptions) { o.MainsHz = 55 }, "ECGOptions.MainsHz = 55 Hz, allowed 0, 50 or 60"},
		{"mains without hz", func(o *ECGOptions) { o.MainsHz, o.MainsMV = 0, 0.1 }, "ECGOptions.MainsHz"},
		{"artefacts", func(o *ECGOptions) { o.ArtifactsPerMin = 61 }, "ECGOptions.ArtifactsPerMin"},
		{"fault kind", func(o *ECGOptions) { o.Faults = []Fault{{Kind: 9, For: time.Second}} }, "ECGOptions.Faults[0].Kind"},
		{"fault length", func(o *ECGOptions) { o.Faults = []Fault{{Kind: Stuck}} }, "ECGOptions.Faults[0].For"},
		{"fault start", func(o *ECGOptions) { o.Faults = []Fault{{Kind: Stuck, At: -1, For: 1}} }, "ECGOptions.Faults[0].At"},
		{"random rate", func(o *ECGOptions) { o.Random.PerHour = -1 }, "ECGOptions.Random.PerHour"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := DefaultECGOptions()
			c.edit(&o)
			_, err := p.ECG(o)
			if err == nil || !errors.Is(err, ErrOption) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrOption with %q", err, c.want)
			}
		})
	}
	for _, rate := range []float64{250, 333, 1000} {
		o := DefaultECGOptions()
		o.Rate = rate
		if _, err := p.ECG(o); err != nil {
			t.Errorf("rate %g refused: %v", rate, err)
		}
	}
}

func TestECGReadAllocs(t *testing.T) {
	p := mustPatient(t, DefaultPatientOptions())
	o := DefaultECGOptions()
	o.Random = RandomFaults{PerHour: 3600, MeanFor: 100 * time.Millisecond}
	e := mustECG(t, p, o)
	d, v := make([]float64, 250), make([]bool, 250)
	if a := testing.AllocsPerRun(200, func() { e.Read(d, v) }); a != 0 {
		t.Errorf("ECG.Read allocates %.1f times per call", a)
	}
}
