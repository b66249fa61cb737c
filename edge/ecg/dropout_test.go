package ecg_test

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"medagent/edge/ec57"
	"medagent/edge/ecg"
	"medagent/edge/ecg/ecgtest"
	"medagent/wfdb"
)

// statusEach feeds x with validity ok and returns one Status per second.
func statusEach(m *ecg.Monitor, rate float64, x []float64, ok []bool) []ecg.Status {
	var out []ecg.Status
	for i, v := range x {
		m.Push(v, ok[i])
		if (i+1)%int(rate) == 0 {
			out = append(out, m.Status())
		}
	}
	return out
}

// rPeaks returns the beat annotations of a record as sample indexes.
func rPeaks(t *testing.T, path string) []int {
	t.Helper()
	anns, err := wfdb.ReadAnnotationFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rs []int
	for _, a := range anns {
		if ec57.IsBeat(a.Mnemonic()) {
			rs = append(rs, int(a.Sample))
		}
	}
	return rs
}

// Samples lost by the acquisition (1-4 % of them, in stretches of
// 20-100 ms, a third of them over a QRS complex) are not beats missed: an
// R-R interval that spans invalid samples is not a measured interval and
// does not enter the average (the issue-12 engineer saw 60-73 /min for a
// patient at 72 under stress-ng, 69-72 without). At a steady 72 /min the
// rate shown stays within 2 /min and is shown at least 90 % of the time;
// on recorded sinus rhythm, whose rate varies beat to beat (so that the
// intervals left out change the mean a little), it stays within EC13's
// accuracy (±10 % or ±5 /min) of the rate shown without losses and is
// shown at least 60 % of the time (a rate is withheld rather than made of
// intervals older than 20 s). No pause or asystole comes from the losses.
func TestHeartRateThroughDropouts(t *testing.T) {
	type signal struct {
		name  string
		tol   float64 // /min; 5 means EC13: ±10 % or ±5 /min
		shown float64 // fraction of the seconds
		rate  float64
		x     []float64
		rs    []int
	}
	var sigs []signal
	syn := ecgtest.Rhythm(300, ecgtest.Regular(72))
	var rs []int
	for _, c := range syn {
		rs = append(rs, int(c.R*fs))
	}
	sigs = append(sigs, signal{"synthetic 72/min", 2, 0.9, fs, ecgtest.Render(syn, fs, 300), rs})
	for _, r := range []string{"x_101", "x_118"} {
		h, x, _ := loadRecord(t, filepath.Join(mitdb, r))
		ch := h.FindSignal("MLII")
		sigs = append(sigs, signal{r, 5, 0.6, h.Freq, x[ch], rPeaks(t, filepath.Join(mitdb, r+".atr"))})
	}
	type losses struct {
		frac     float64
		min, max float64 // stretch lengths, s
		shown    float64 // the least share of seconds with the rate shown, 0: the signal's
	}
	var cases []losses
	for _, frac := range []float64{0.01, 0.02, 0.04} {
		cases = append(cases, losses{frac, 0.02, 0.1, 0})
	}
	// Many short holes, as a sampler that misses single slots under load
	// leaves: they hide no QRS and must not withhold the rate.
	cases = append(cases, losses{0.05, 0.002, 0.03, 0.8})
	for _, s := range sigs {
		for _, c := range cases {
			for seed := uint64(1); seed <= 3; seed++ {
				frac := c.frac
				t.Run(fmt.Sprintf("%s/%.0f%%/%v-%vs/%d", s.name, 100*frac, c.min, c.max, seed), func(t *testing.T) {
					all := make([]bool, len(s.x))
					for i := range all {
						all[i] = true
					}
					ok := ecgtest.Dropouts(len(s.x), s.rate, frac, c.min, c.max, s.rs, seed)
					mk := func() *ecg.Monitor {
						m, err := ecg.NewMonitor(ecg.MonitorOptions{Options: ecg.Options{Rate: s.rate}, AsystoleAfter: 4 * time.Second})
						if err != nil {
							t.Fatal(err)
						}
						return m
					}
					ref := statusEach(mk(), s.rate, s.x, all)
					got := statusEach(mk(), s.rate, s.x, ok)
					shown, both, worst := 0, 0, 0.0
					for k := 15; k < len(got); k++ {
						if got[k].Asystole || got[k].LongestGap >= 3 {
							t.Errorf("second %d: asystole %v, longest gap %.2f s from lost samples", k+1, got[k].Asystole, got[k].LongestGap)
						}
						if !ref[k].HRValid {
							continue
						}
						both++
						if !got[k].HRValid {
							continue
						}
						shown++
						d := got[k].HR - ref[k].HR
						if math.Abs(d) > math.Abs(worst) {
							worst = d
						}
						tol := s.tol
						if s.tol == 5 {
							tol = max(5, 0.1*ref[k].HR) // EC13 4.1.2.1 e
						}
						if math.Abs(d) > tol {
							t.Errorf("second %d: HR %.1f with lost samples, %.1f without", k+1, got[k].HR, ref[k].HR)
						}
					}
					t.Logf("HR shown %d of %d s, worst difference %+.1f /min", shown, both, worst)
					if float64(shown) < max(s.shown, c.shown)*float64(both) {
						t.Errorf("HR shown %d of %d s", shown, both)
					}
				})
			}
		}
	}
}
