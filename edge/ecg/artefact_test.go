package ecg_test

import (
	"math"
	"path/filepath"
	"testing"

	"medagent/edge/ecg"
	"medagent/edge/ecg/ecgtest"
)

// Bursty noise (muscle artefact comes and goes) has quiet stretches of
// several seconds with no QRS complex and a signal under 0.1 mV: on its
// own such a stretch looks like a standstill, but after loud noise it is
// not one until the lead has stayed flat for longer (standstill.go). Here
// 5 s bursts of 0.6 mV muscle noise alternate with 7 s of 0.05 mV for a
// minute, in place of the ECG: no asystole. And a real standstill after
// noise (20 s of noise, then a flat line with 0.1 mV of noise) is alarmed
// within 10 s of the end of the noise.
func TestBurstyNoiseIsNotAsystole(t *testing.T) {
	x := ecgtest.Render(ecgtest.Rhythm(150, ecgtest.Regular(75)), fs, 150)
	for k := 0; k < 5; k++ {
		at := 40 + 12*float64(k)
		x = ecgtest.ReplaceWith(x, fs, at, ecgtest.Noise(ecgtest.Muscle, fs, 5, 0.6, uint64(k+1)))
		x = ecgtest.ReplaceWith(x, fs, at+5, ecgtest.Noise(ecgtest.White, fs, 7, 0.05, uint64(k+11)))
	}
	st := seconds(newMonitor(t), x)
	for s := 39; s < 102; s++ {
		if st[s].Asystole {
			t.Errorf("second %d: asystole in the quiet stretch of bursty noise", s+1)
		}
	}
	if !st[130].HRValid || st[130].Asystole {
		t.Errorf("second 131, after the noise: %+v, want the rate", st[130])
	}

	for _, kind := range []ecgtest.NoiseKind{ecgtest.White, ecgtest.Muscle} {
		x := ecgtest.Render(ecgtest.Rhythm(90, ecgtest.Regular(75)), fs, 90)
		x = ecgtest.ReplaceWith(x, fs, 30, ecgtest.Noise(kind, fs, 20, 0.6, 5))
		x = ecgtest.Asystole(x, fs, 50, 30, 0.1, 6)
		st := seconds(newMonitor(t), x)
		first := -1
		for s := 29; s < 80; s++ {
			if st[s].Asystole && first < 0 {
				first = s + 1
			}
		}
		t.Logf("%s noise, then a standstill from 50 s: asystole at second %d", kind, first)
		if first < 51 || first > 60 {
			t.Errorf("%s noise, then a standstill from 50 s: asystole first at second %d, want 51..60", kind, first)
		}
	}
}

// Electrode motion alone (the Noise Stress Test's: 118e00 minus 118 from
// 300 s, scaled to 0.6 mV RMS) moves the signal's power to low
// frequencies and makes beats of shapes the patient has not shown. Put in
// place of the ECG of record 101 for 60 s, or added to it: where it
// replaces the ECG the rate is shown for at most 3 s of the noise and the
// quality gate closes within 6 s (26 s and 27 s before the low-frequency
// and shape terms of the quality index); where it is added, a rate off by
// more than 10 % is shown for at most 10 s (27 s before; 7-8 s now: the
// first 25 s of this stretch of electrode motion are mild and the gate
// reopens between its bursts, so the 3 s is not met in this
// case); there is no asystole, and the rate comes back after it.
func TestElectrodeMotionHidesTheRate(t *testing.T) {
	testdata := filepath.Join("..", "..", "testdata", "physionet")
	he, e, _ := loadRecord(t, filepath.Join(testdata, "nstdb", "x_118e00"))
	hc, c, _ := loadRecord(t, filepath.Join(mitdb, "x_118"))
	ee, cc := e[he.FindSignal("MLII")], c[hc.FindSignal("MLII")]
	em := make([]float64, 60*int(fs))
	for i := range em {
		em[i] = ee[60*int(fs)+i] - cc[i] // x_118e00 starts at 240 s, x_118 at 300 s
	}
	em = ecgtest.Scale(em, 0.6)
	h, x, ok := loadRecord(t, filepath.Join(mitdb, "x_101"))
	ch := h.FindSignal("MLII")
	for _, replace := range []bool{true, false} {
		y := ecgtest.AddTo(x[ch], fs, 120, em)
		if replace {
			y = ecgtest.ReplaceWith(x[ch], fs, 120, em)
		}
		m := newMonitor(t)
		var st []ecg.Status
		for i := range y {
			m.Push(y[i], ok[ch][i])
			if (i+1)%int(fs) == 0 {
				st = append(st, m.Status())
			}
		}
		shown, wrong, gated := 0, 0, -1
		for s := 120; s < 180; s++ {
			if st[s].Asystole {
				t.Errorf("replace %v: second %d: asystole in electrode motion", replace, s+1)
			}
			if st[s].Noisy && gated < 0 {
				gated = s + 1 - 120
			}
			if st[s].HRValid {
				shown++
				if math.Abs(st[s].HR-st[115].HR) > 0.1*st[115].HR {
					wrong++
				}
			}
		}
		t.Logf("replace %v: rate shown for %d s of 60 (%d s off by more than 10 %%), gate closed after %d s", replace, shown, wrong, gated)
		if (replace && shown > 3) || wrong > 10 {
			t.Errorf("replace %v: rate shown for %d s of 60 s of electrode motion, %d s of it wrong", replace, shown, wrong)
		}
		if replace && (gated < 0 || gated > 6) {
			t.Errorf("replace %v: the quality gate closed %d s into the noise, want within 6 s", replace, gated)
		}
		if !st[230].HRValid || st[230].Noisy {
			t.Errorf("replace %v: second 231, after the noise: %+v, want the rate", replace, st[230])
		}
	}
}
