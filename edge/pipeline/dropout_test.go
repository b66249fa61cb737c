package pipeline

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"medagent/edge/ecg/ecgtest"
	"medagent/sensors"
	"medagent/telemetry"
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

// Samples never read (a sampling thread kept off the CPU, lost frames:
// NaN and invalid) say nothing about the electrodes: 70 % of the ECG lost
// for 20 s raises no "lead off", where the same samples sent by the front
// end marked invalid (its lead-off status) do. (In the bench image a
// starved emulator sent a nurse to check electrodes that were fine.)
func TestLostSamplesAreNotLeadOff(t *testing.T) {
	const rate = 500
	x := ecgtest.Render(ecgtest.Rhythm(60, ecgtest.Regular(72)), rate, 60)
	ok := make([]bool, len(x))
	for i := range ok {
		ok[i] = i < 10*rate || i >= 30*rate || i%10 >= 7
	}
	leadOff := func(secs [][]telemetry.Pack) bool {
		for _, e := range alarmEvents(secs) {
			if e.cond == "lead_off" && e.event == "raised" {
				return true
			}
		}
		return false
	}
	if !leadOff(ecgRunValid(t, x, ok, rate)) {
		t.Fatal("70 % of the samples marked invalid by the front end for 20 s: no lead_off raised")
	}
	lost := slices.Clone(x)
	for i := range lost {
		if !ok[i] {
			lost[i] = sensors.Lost(1)[0]
		}
	}
	if secs := ecgRunValid(t, lost, ok, rate); leadOff(secs) {
		t.Errorf("lead_off raised for samples never read: %+v", alarmEvents(secs))
	}
}
