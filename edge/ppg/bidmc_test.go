package ppg

import (
	"bufio"
	"compress/gzip"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// bidmc reads the PLETH and II (ECG) columns of BIDMC subject 01, 125 Hz,
// from the repository's gzipped copy (testdata/physionet/bidmc).
func bidmc(t testing.TB) (pleth, ecg []float64) {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "physionet", "bidmc", "bidmc_01_Signals.csv.gz")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Scan() // header: Time [s], RESP, PLETH, V, AVR, II
	if h := sc.Text(); !strings.Contains(h, "PLETH") || !strings.HasSuffix(strings.TrimSpace(h), "II") {
		t.Fatalf("unexpected header %q", h)
	}
	for sc.Scan() {
		fs := strings.Split(sc.Text(), ",")
		if len(fs) != 6 {
			t.Fatalf("line %q: want 6 fields", sc.Text())
		}
		p, err1 := strconv.ParseFloat(strings.TrimSpace(fs[2]), 64)
		e, err2 := strconv.ParseFloat(strings.TrimSpace(fs[5]), 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("line %q: %v %v", sc.Text(), err1, err2)
		}
		pleth = append(pleth, p)
		ecg = append(ecg, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return pleth, ecg
}

// rPeaks finds R waves offline and non-causally, independently of this
// package: a sample that is the maximum within ±0.24 s and stands above the
// window's median by 30 % of the window's range.
func rPeaks(x []float64, fs float64) []int {
	w := int(0.24 * fs)
	var out []int
	buf := make([]float64, 2*w+1)
	for i := w; i < len(x)-w; i++ {
		seg := x[i-w : i+w+1]
		mx, mn := slices.Max(seg), slices.Min(seg)
		if x[i] != mx {
			continue
		}
		copy(buf, seg)
		slices.Sort(buf)
		if x[i] > buf[w]+0.3*(mx-mn) && (len(out) == 0 || i-out[len(out)-1] > w) {
			out = append(out, i)
		}
	}
	return out
}

// bidmcRun feeds PLETH (with the samples gap marks invalid) and returns the
// pulse peak times in samples and the rate reports [rate, sample] made
// once a second.
func bidmcRun(t *testing.T, pleth []float64, gap func(i int) bool) (peaks []float64, rates [][2]float64) {
	const fs = 125
	cfg := Defaults()
	cfg.Rate = fs
	// PLETH is normalised to 0..1: no probe-off levels apply, and it is a
	// single channel, fed as both red and IR.
	cfg.ProbeOffDC, cfg.SaturationDC = 0, 2
	cfg.Inverted = false // the monitor exported it upright
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range pleth {
		r := p.Push(v, v, !gap(i))
		if r.Beat {
			if gap(i) {
				t.Fatalf("sample %d: a pulse inside a gap", i)
			}
			peaks = append(peaks, float64(i)-r.BeatDelay*fs)
		}
		if r.RateValid && i%fs == 0 {
			rates = append(rates, [2]float64{r.PulseRate, float64(i)})
		}
		if r.SpO2Valid && math.Abs(r.R-1) > 1e-9 {
			t.Fatalf("sample %d: identical channels must give R = 1, got %g", i, r.R)
		}
	}
	return peaks, rates
}

// matchBeats returns the delay from R peak to pulse (the most common one,
// in 10 ms bins, over pulses within -0.5..1.5 s of an R peak: the channels
// have a constant offset from pulse transit time, the recorder's own
// delays and the polarity of the pulse), and how many R peaks have a
// pulse within ±150 ms of R + delay. Times are in samples at fs.
func matchBeats(rs []int, peaks []float64, fs float64) (lag float64, matched int) {
	hist := map[int]int{}
	j := 0
	for _, pk := range peaks {
		for j < len(rs) && float64(rs[j]) < pk-1.5*fs {
			j++
		}
		for k := j; k < len(rs) && float64(rs[k]) <= pk+0.5*fs; k++ {
			hist[int(math.Floor((pk-float64(rs[k]))/fs*100))]++
		}
	}
	best, bestN := 0, -1
	for bin, n := range hist {
		// Ties go to the smaller delay, so that the result is stable.
		if n > bestN || (n == bestN && bin < best) {
			best, bestN = bin, n
		}
	}
	if bestN < 0 {
		return 0, 0
	}
	lag = (float64(best) + 0.5) / 100 * fs
	tol := 0.15 * fs
	used := make([]bool, len(peaks))
	k := 0
	for _, r := range rs {
		want := float64(r) + lag
		for k < len(peaks) && peaks[k] < want-tol {
			k++
		}
		if k < len(peaks) && math.Abs(peaks[k]-want) <= tol && !used[k] {
			used[k] = true
			matched++
		}
	}
	return lag, matched
}

// TestBIDMCPulses checks pulse detection on a real finger PPG against the
// ECG of the same recording: every heart beat should give one pulse a
// roughly constant transit time later.
func TestBIDMCPulses(t *testing.T) {
	const fs = 125
	pleth, ecg := bidmc(t)
	rs := rPeaks(ecg, fs)
	if len(rs) < 700 || len(rs) > 760 {
		t.Fatalf("reference: %d R peaks in 8 min, expected about 730 (91 /min)", len(rs))
	}
	peaks, rates := bidmcRun(t, pleth, func(int) bool { return false })
	lag, matched := matchBeats(rs, peaks, fs)
	t.Logf("%d R peaks, %d pulses, median R-to-pulse delay %.0f ms", len(rs), len(peaks), lag/fs*1000)
	// The first second settles the filters and the recording has about
	// 12 s of motion artefact around 95 s.
	sens := float64(matched) / float64(len(rs))
	ppv := float64(matched) / float64(len(peaks))
	t.Logf("sensitivity %.3f, positive predictivity %.3f", sens, ppv)
	if sens < 0.96 || ppv < 0.98 {
		t.Errorf("sensitivity %.3f, positive predictivity %.3f: want ≥ 0.96 and ≥ 0.98", sens, ppv)
	}
	// Reported rate, once a second, against the ECG rate over the same
	// eight beats.
	off := 0
	for _, rp := range rates {
		r, at := rp[0], rp[1]-lag
		k := 0
		for k < len(rs) && float64(rs[k]) <= at {
			k++
		}
		if k < 9 {
			continue
		}
		ref := 60 * 8 / (float64(rs[k-1]-rs[k-9]) / fs)
		if r < 25 || r > 240 {
			t.Fatalf("implausible pulse rate %.1f /min", r)
		}
		if math.Abs(r-ref) > 5 {
			off++
		}
	}
	t.Logf("%d of %d rate reports more than 5 /min off the ECG's", off, len(rates))
	if len(rates) < 400 || float64(off) > 0.02*float64(len(rates)) {
		t.Errorf("%d of %d rate reports more than 5 /min from the ECG rate", off, len(rates))
	}
}

// TestBIDMCGaps drops 2 s of samples every 30 s (radio or bus drop-outs):
// detection must resume after each, and never report pulses in a gap.
func TestBIDMCGaps(t *testing.T) {
	const fs = 125
	pleth, ecg := bidmc(t)
	rs := rPeaks(ecg, fs)
	gap := func(i int) bool { return i%(30*fs) >= 28*fs }
	peaks, rates := bidmcRun(t, pleth, gap)
	_, matched := matchBeats(rs, peaks, fs)
	sens := float64(matched) / float64(len(rs))
	ppv := float64(matched) / float64(len(peaks))
	t.Logf("with gaps: sensitivity %.3f, positive predictivity %.3f, %d rate reports", sens, ppv, len(rates))
	// 2 s of gap and about 1.5 s of restart (filter settling, first
	// pulse) in every 30 s: about 12 % of the beats cannot be found.
	if sens < 0.83 || ppv < 0.98 {
		t.Errorf("sensitivity %.3f, positive predictivity %.3f: want ≥ 0.83 and ≥ 0.98", sens, ppv)
	}
	// Values are held across a 2 s gap (shorter than the 3 s expiry).
	if len(rates) < 400 {
		t.Errorf("%d rate reports, want ≥ 400 of 480 s", len(rates))
	}
}
