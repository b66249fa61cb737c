package ecg_test

import (
	"fmt"
	"math"
	"testing"

	"medagent/edge/ecg/ecgtest"
)

// Asystole is alarmed through lost samples: short stretches of invalid
// samples (1-4 %, 20-100 ms each, bridged by the detector) do not restart
// the time without a QRS complex on a flat lead, which must still reach
// asystole within 6 s of the last beat.
func TestAsystoleThroughDropouts(t *testing.T) {
	for _, noise := range []float64{0, 0.1} {
		for _, frac := range []float64{0.01, 0.04} {
			for seed := uint64(1); seed <= 3; seed++ {
				t.Run(fmt.Sprintf("%v mV/%.0f%%/%d", noise, 100*frac, seed), func(t *testing.T) {
					x := ecgtest.Render(ecgtest.Rhythm(60, ecgtest.Regular(75)), fs, 60)
					x = ecgtest.Asystole(x, fs, 30, 12, noise, 1)
					ok := ecgtest.Dropouts(len(x), fs, frac, 0.02, 0.1, nil, seed)
					st := statusEach(newMonitor(t), fs, x, ok)
					first := -1
					for s, v := range st {
						if v.Asystole && first < 0 {
							first = s + 1
						}
						if v.Asystole && (s+1 < 30 || s+1 > 43) {
							t.Errorf("asystole at second %d, outside the flat line 30-42", s+1)
						}
					}
					if first < 30 || first > 35 {
						t.Errorf("asystole first at second %d, want 33..35", first)
					}
				})
			}
		}
	}
}

// Through lost samples a pause on a flat line is reported at its length.
// Across a stretch that can hide a QRS complex (30 ms and more) it is
// reported only when the signal around the stretch is quiet (a lost beat
// leaves its edges and T wave there; at a slow rate one lost beat would
// otherwise be a false pause), so then it is the pause or nothing, never
// another length, and with a flat lead (noise up to 0.05 mV) mostly the
// pause. A pause longer than the asystole delay is asystole all the same.
func TestPauseThroughDropouts(t *testing.T) {
	for _, c := range []struct {
		name     string
		min, max float64 // stretch lengths, s
		noise    float64 // mV RMS
		measured int     // of the 3 seeds, at least
	}{
		{"short", 1 / fs, 0.02, 0, 3},
		{"long", 0.02, 0.1, 0, 2},
		{"long, 0.05 mV noise", 0.02, 0.1, 0.05, 2},
	} {
		for _, pause := range []float64{3.5, 5.9} {
			measured := 0
			for seed := uint64(1); seed <= 3; seed++ {
				t.Run(fmt.Sprintf("%s/%v/%d", c.name, pause, seed), func(t *testing.T) {
					cs := ecgtest.Rhythm(45, func(k int, at float64) (ecgtest.Complex, float64) {
						if k == 24 {
							return ecgtest.Normal(at), pause
						}
						return ecgtest.Normal(at), 0.8
					})
					x := ecgtest.Render(cs, fs, 45)
					if c.noise > 0 {
						x = ecgtest.AddTo(x, fs, 0, ecgtest.Noise(ecgtest.White, fs, 45, c.noise, seed))
					}
					ok := ecgtest.Dropouts(len(x), fs, 0.03, c.min, c.max, nil, seed)
					st := statusEach(newMonitor(t), fs, x, ok)
					longest, asy := 0.0, false
					for s := 19; s < 30; s++ {
						longest = math.Max(longest, st[s].LongestGap)
						asy = asy || st[s].Asystole
					}
					t.Logf("longest gap %.2f s, asystole %v", longest, asy)
					if math.Abs(longest-pause) <= 0.05 {
						measured++
					} else if longest >= 3 {
						t.Errorf("longest gap %.2f s: neither the pause (%.1f s) nor none", longest, pause)
					}
					if asy != (pause > 4) {
						t.Errorf("asystole %v in a %.1f s pause", asy, pause)
					}
					for s := 5; s < 18; s++ {
						if st[s].LongestGap >= 3 || st[s].Asystole {
							t.Errorf("second %d: gap %.2f s, asystole %v in a regular rhythm", s+1, st[s].LongestGap, st[s].Asystole)
						}
					}
				})
			}
			if measured < c.measured {
				t.Errorf("%s, %.1f s pause: measured in %d of 3 runs, want %d", c.name, pause, measured, c.measured)
			}
		}
	}
}
