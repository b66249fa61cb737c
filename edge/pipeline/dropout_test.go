package pipeline

import (
	"fmt"
	"math"
	"testing"

	"medagent/edge/ecg/ecgtest"
)

// The heart rate published for a patient at 72 /min stays at 72 ± 2 while
// the acquisition loses 1-4 % of the ECG samples in stretches of 20-100 ms
// (a third of them over a QRS complex), each lost sample an invalid sample
// at its own time, as under stress-ng (issue 12 saw 60-73 published); it
// is published at least 90 % of the time, and the losses raise no alarm.
// With a standstill spliced in, asystole is still raised by 46 s.
func TestHeartRateThroughLostSamples(t *testing.T) {
	const rate = 500
	cs := ecgtest.Rhythm(180, ecgtest.Regular(72))
	var rs []int
	for _, c := range cs {
		rs = append(rs, int(c.R*rate))
	}
	x := ecgtest.Render(cs, rate, 180)
	for _, frac := range []float64{0.01, 0.04} {
		for seed := uint64(1); seed <= 2; seed++ {
			t.Run(fmt.Sprintf("%.0f%%/%d", 100*frac, seed), func(t *testing.T) {
				ok := ecgtest.Dropouts(len(x), rate, frac, 0.02, 0.1, rs, seed)
				secs := ecgRunValid(t, x, ok, rate)
				shown, lo, hi := 0, math.Inf(1), math.Inf(-1)
				for s := 10; s < len(secs); s++ {
					hr, has, valid := hrOf(secs[s])
					if !has || !valid {
						continue
					}
					shown++
					lo, hi = math.Min(lo, hr), math.Max(hr, hi)
				}
				t.Logf("published %d of %d s, %v-%v /min", shown, len(secs)-10, lo, hi)
				if lo < 70 || hi > 74 {
					t.Errorf("heart rate published %v-%v /min for 72", lo, hi)
				}
				if shown < (len(secs)-10)*9/10 {
					t.Errorf("heart rate published %d of %d s", shown, len(secs)-10)
				}
				for _, e := range alarmEvents(secs) {
					t.Errorf("alarm from lost samples: %+v", e)
				}
			})
		}
	}
	ok := ecgtest.Dropouts(len(x), rate, 0.04, 0.02, 0.1, nil, 3)
	secs := ecgRunValid(t, ecgtest.Asystole(x, rate, 40, 12, 0.03, 1), ok, rate)
	asy := -1
	for _, e := range alarmEvents(secs) {
		if e.cond == "asystole" && e.event == "raised" && asy < 0 {
			asy = e.sec
		}
	}
	if asy < 43 || asy > 46 {
		t.Errorf("asystole raised at %d s with 4 %% lost, want 43-46 (standstill from 40 s)", asy)
	}
}
