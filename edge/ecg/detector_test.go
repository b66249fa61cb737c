package ecg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"testing"
)

func run(t testing.TB, d *Detector, xs []float64, valid func(i int) bool) []Beat {
	var beats []Beat
	for i, x := range xs {
		ok := valid == nil || valid(i)
		if b, got := d.Push(x, ok); got {
			beats = append(beats, b)
		}
	}
	// Flush: feed silence long enough for held beats to come out.
	for k := 0; k < int(d.Rate()); k++ {
		if b, got := d.Push(0.8, true); got {
			beats = append(beats, b)
		}
	}
	return beats
}

// match checks that every synthetic R peak has exactly one beat within tol
// samples and that there are no other beats.
func match(t *testing.T, s *synth, beats []Beat, tol int64) {
	t.Helper()
	j := 0
	for _, p := range s.peaks {
		for j < len(beats) && beats[j].Index < p-tol {
			t.Errorf("false beat at %d (%.3f s)", beats[j].Index, float64(beats[j].Index)/s.rate)
			j++
		}
		if j == len(beats) || beats[j].Index > p+tol {
			t.Errorf("missed beat at %d (%.3f s)", p, float64(p)/s.rate)
			continue
		}
		j++
	}
	for ; j < len(beats); j++ {
		t.Errorf("false beat at %d", beats[j].Index)
	}
}

func TestPulseTrainRates(t *testing.T) {
	for _, rate := range []float64{250, 360, 500, 1000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			s := newSynth(rate, 60, 0.8, 0.7, 0.9, 0.8)
			d, err := NewDetector(Options{Rate: rate})
			if err != nil {
				t.Fatal(err)
			}
			beats := run(t, d, s.samples(0, 0, 0, 0, 1), nil)
			match(t, s, beats, int64(0.010*rate))
			maxLat := int64(math.Floor(MaxLatency * rate))
			for _, b := range beats {
				lat := b.Reported - b.Index
				if b.Searchback {
					t.Errorf("searchback beat at %d on a clean signal", b.Index)
				}
				if !b.Learning && lat > maxLat {
					t.Errorf("beat %d reported after %d samples (%.3f s), max %.3f s", b.Index, lat, float64(lat)/rate, MaxLatency)
				}
				if b.Learning && b.Index > int64(learnSeconds*rate) {
					t.Errorf("beat %d after the learning period marked Learning", b.Index)
				}
				if lat < 0 {
					t.Errorf("beat %d reported before it happened (%d)", b.Index, b.Reported)
				}
			}
			last := beats[len(beats)-1]
			// RR cycles 0.8 0.7 0.9 0.8: median of the last 8 is 0.8 s.
			if math.Abs(last.HRAvg-75) > 1.5 {
				t.Errorf("HRAvg = %.1f, want 75", last.HRAvg)
			}
			if want := 60 / (float64(last.RR) / rate); math.Abs(last.HR-want) > 1e-9 {
				t.Errorf("HR = %v, want 60/RR = %v", last.HR, want)
			}
			if last.Quality < 0.8 || last.Quality > 1 {
				t.Errorf("quality %.2f on a clean signal", last.Quality)
			}
		})
	}
}

func TestMainsWanderAndNoise(t *testing.T) {
	for _, tc := range []struct {
		mains, amp, wander, noise float64
	}{
		{50, 0.3, 0, 0},
		{60, 0.3, 0, 0},
		{0, 0, 1.0, 0},
		{60, 0.2, 0.5, 0.03},
	} {
		t.Run(fmt.Sprintf("%v Hz %v mV wander %v noise %v", tc.mains, tc.amp, tc.wander, tc.noise), func(t *testing.T) {
			s := newSynth(500, 60, 0.75, 0.85)
			d, err := NewDetector(Options{Rate: 500, MainsHz: tc.mains})
			if err != nil {
				t.Fatal(err)
			}
			match(t, s, run(t, d, s.samples(tc.mains, tc.amp, tc.wander, tc.noise, 7), nil), 5)
		})
	}
}

func TestNotchRemovesMains(t *testing.T) {
	d, _ := NewDetector(Options{Rate: 500, MainsHz: 50})
	peak := 0.0
	for i := 0; i < 5000; i++ {
		d.Push(math.Sin(2*math.Pi*50*float64(i)/500), true)
		if i > 2500 {
			peak = max(peak, math.Abs(d.Filtered()))
		}
	}
	if peak > 0.05 {
		t.Errorf("50 Hz at 1 mV leaves %.3f mV after the notch", peak)
	}
}

func TestQualityDropsWithNoise(t *testing.T) {
	s := newSynth(360, 40, 0.8)
	q := func(noise float64) float64 {
		d, _ := NewDetector(Options{Rate: 360})
		beats := run(t, d, s.samples(0, 0, 0, noise, 3), nil)
		if len(beats) == 0 {
			return 0
		}
		return beats[len(beats)-1].Quality
	}
	clean, noisy := q(0), q(0.15)
	if !(noisy < clean) {
		t.Errorf("quality clean %.2f, noisy %.2f: want noisy lower", clean, noisy)
	}
}

func TestGaps(t *testing.T) {
	rate := 360.0
	s := newSynth(rate, 60, 0.8)
	xs := s.samples(0, 0, 0, 0, 1)
	// Lead off from 20 s to 25 s, NaN and Inf bursts, one short dropout.
	for i := int(20 * rate); i < int(25*rate); i++ {
		xs[i] = 0
	}
	xs[int(30*rate)] = math.NaN()
	xs[int(31*rate)] = math.Inf(1)
	xs[int(32*rate)] = math.Inf(-1)
	valid := func(i int) bool {
		return !(i >= int(20*rate) && i < int(25*rate)) && !(i >= int(40*rate) && i < int(40.1*rate))
	}
	d, _ := NewDetector(Options{Rate: rate})
	beats := run(t, d, xs, valid)
	for k, b := range beats {
		if b.Index >= int64(20*rate) && b.Index < int64(25*rate) {
			t.Errorf("beat at %d inside the lead-off gap", b.Index)
		}
		if k > 0 && b.Index >= int64(25*rate) && beats[k-1].Index < int64(20*rate) && b.RR != 0 {
			t.Errorf("first beat after a long gap has RR %d, want 0", b.RR)
		}
	}
	// Beats resume: every synthetic beat after the re-learning period and
	// before the NaN bursts is found, and the short gaps lose at most the
	// beats they cover.
	found := func(from, to float64) (want, got int) {
		for _, p := range s.peaks {
			if p >= int64(from*rate) && p < int64(to*rate) {
				want++
				for _, b := range beats {
					if b.Index >= p-4 && b.Index <= p+4 {
						got++
						break
					}
				}
			}
		}
		return
	}
	if w, g := found(25.5, 29.5); g != w {
		t.Errorf("after lead-off: %d of %d beats", g, w)
	}
	if w, g := found(33, 59); g < w-1 {
		t.Errorf("around short gaps: %d of %d beats", g, w)
	}
}

func TestNeverPanics(t *testing.T) {
	vals := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e300, -1e300, 0, 5, math.SmallestNonzeroFloat64}
	for _, rate := range []float64{100, 250, 1000, 2000} {
		d, err := NewDetector(Options{Rate: rate, MainsHz: 60})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 20000; i++ {
			b, ok := d.Push(vals[(i*7+i/13)%len(vals)], i%11 != 0)
			if ok && (b.Index < 0 || b.Index > int64(i)) {
				t.Fatalf("beat index %d at sample %d", b.Index, i)
			}
			if q := d.Quality(); math.IsNaN(q) || q < 0 || q > 1 {
				t.Fatalf("quality %v", q)
			}
		}
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{{Rate: 0}, {Rate: 50}, {Rate: 5000}, {Rate: math.NaN()}, {Rate: 360, MainsHz: 55}} {
		if _, err := NewDetector(o); !errors.Is(err, ErrOptions) {
			t.Errorf("%+v: error %v, want ErrOptions", o, err)
		}
	}
}

func TestZeroAllocsPerSample(t *testing.T) {
	s := newSynth(360, 20, 0.8)
	xs := s.samples(60, 0.1, 0.2, 0.01, 1)
	d, _ := NewDetector(Options{Rate: 360, MainsHz: 60})
	allocs := testing.AllocsPerRun(3, func() {
		for _, x := range xs {
			d.Push(x, true)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per %d samples, want 0", allocs, len(xs))
	}
}

// FuzzPush feeds arbitrary sample streams (8 bytes per sample, the low bit
// of the first byte marking validity) and checks the detector's
// invariants: no panic, beats in order, never in the future, quality in
// range.
func FuzzPush(f *testing.F) {
	s := newSynth(250, 4, 0.8)
	var seed []byte
	for _, x := range s.samples(50, 0.1, 0.3, 0.01, 1) {
		seed = binary.LittleEndian.AppendUint64(seed, math.Float64bits(x)|1)
	}
	f.Add(seed, uint16(250))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf8, 0x7f}, uint16(1000))
	f.Fuzz(func(t *testing.T, data []byte, rate uint16) {
		d, err := NewDetector(Options{Rate: float64(rate)})
		if err != nil {
			return
		}
		last := int64(-1)
		for i := 0; i+8 <= len(data); i += 8 {
			bits := binary.LittleEndian.Uint64(data[i:])
			b, ok := d.Push(math.Float64frombits(bits), bits&1 == 1)
			if ok {
				if b.Index <= last || b.Index > int64(i/8) {
					t.Fatalf("beat %d after %d at sample %d", b.Index, last, i/8)
				}
				last = b.Index
			}
			if q := d.Quality(); !(q >= 0 && q <= 1) {
				t.Fatalf("quality %v", q)
			}
		}
	})
}
