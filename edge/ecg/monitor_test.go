package ecg_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"medagent/edge/ecg"
	"medagent/edge/ecg/ecgtest"
)

const fs = 360.0

func newMonitor(t testing.TB) *ecg.Monitor {
	t.Helper()
	m, err := ecg.NewMonitor(ecg.MonitorOptions{Options: ecg.Options{Rate: fs}, AsystoleAfter: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// seconds feeds x and returns one Status per whole second.
func seconds(m *ecg.Monitor, x []float64) []ecg.Status {
	var out []ecg.Status
	for i, v := range x {
		m.Push(v, true)
		if (i+1)%int(fs) == 0 {
			out = append(out, m.Status())
		}
	}
	return out
}

func TestMonitorOptions(t *testing.T) {
	for _, d := range []time.Duration{2 * time.Second, 11 * time.Second} {
		if _, err := ecg.NewMonitor(ecg.MonitorOptions{Options: ecg.Options{Rate: fs}, AsystoleAfter: d}); err == nil {
			t.Errorf("asystole after %v accepted", d)
		}
	}
}

// The irregular rhythms of EC13 3a-3d give their rates after 20 s.
func TestEC13IrregularRhythms(t *testing.T) {
	for _, w := range ecgtest.EC13Waveforms {
		t.Run(w.Name, func(t *testing.T) {
			x := ecgtest.Render(ecgtest.Rhythm(40, w.Beat), fs, 40)
			st := seconds(newMonitor(t), x)
			for s := 20; s < 38; s++ {
				if !st[s].HRValid || math.Abs(st[s].HR-w.Rate) > 1 {
					t.Fatalf("second %d: HR %.1f (valid %v), want %v ± 1", s+1, st[s].HR, st[s].HRValid, w.Rate)
				}
			}
		})
	}
}

// responseTime is when the shown rate enters, and stays within, 5 % of the
// new rate after a step at 30 s (EC13 4.1.2.1 f asks for at most 10 s).
func responseTime(t *testing.T, from, to float64) float64 {
	x := ecgtest.Render(ecgtest.Rhythm(70, ecgtest.Step(from, to, 30)), fs, 70)
	st := seconds(newMonitor(t), x)
	settled := -1.0
	for s := 30; s < len(st); s++ {
		ok := st[s].HRValid && math.Abs(st[s].HR-to) <= 0.05*to
		if ok && settled < 0 {
			settled = float64(s+1) - 30
		}
		if !ok {
			settled = -1
		}
	}
	return settled
}

func TestRateStepResponse(t *testing.T) {
	for _, c := range [][2]float64{{80, 120}, {80, 40}} {
		rt := responseTime(t, c[0], c[1])
		t.Logf("%v -> %v /min: %.0f s", c[0], c[1], rt)
		if rt < 0 || rt > 10 {
			t.Errorf("%v -> %v /min: response time %v s, want <= 10", c[0], c[1], rt)
		}
	}
}

// A T wave up to 1.2 mV with a 100 ms, 1 mV QRS is not counted as a beat
// (IEC 60601-2-27 tall-T rejection).
func TestTallTRejection(t *testing.T) {
	for _, bpm := range []float64{60, 80, 120} {
		for _, tall := range []float64{0.6, 1.0, 1.2} {
			t.Run(fmt.Sprintf("%v/min T %v mV", bpm, tall), func(t *testing.T) {
				x := ecgtest.Render(ecgtest.Rhythm(40, ecgtest.TallT(bpm, tall)), fs, 40)
				st := seconds(newMonitor(t), x)
				for s := 15; s < 38; s++ {
					if !st[s].HRValid || math.Abs(st[s].HR-bpm) > 1 {
						t.Fatalf("second %d: HR %.1f (valid %v), want %v", s+1, st[s].HR, st[s].HRValid, bpm)
					}
				}
			})
		}
	}
}

// Asystole: a flat line with low-level noise after a sinus rhythm is seen
// within the delay plus a second; beats back end it.
func TestAsystoleOnFlatLine(t *testing.T) {
	for _, noise := range []float64{0, 0.03, 0.1} {
		t.Run(fmt.Sprint(noise), func(t *testing.T) {
			x := ecgtest.Render(ecgtest.Rhythm(60, ecgtest.Regular(75)), fs, 60)
			x = ecgtest.Asystole(x, fs, 30, 12, noise, 1)
			st := seconds(newMonitor(t), x)
			first := -1
			for s, v := range st {
				if v.Asystole && first < 0 {
					first = s + 1
				}
				if v.Asystole && (s+1 < 30 || s+1 > 43) {
					t.Errorf("asystole at second %d, outside the flat line 30-42", s+1)
				}
			}
			// The last beat is at most 0.8 s before 30 s: asystole by 35 s.
			if first < 30 || first > 35 {
				t.Errorf("asystole first at second %d, want 33..35", first)
			}
			if st[first-1].HRValid {
				t.Errorf("HR %.0f still shown in asystole", st[first-1].HR)
			}
			if !st[50].HRValid || st[50].Asystole {
				t.Errorf("second 51: %+v, want the rate back", st[50])
			}
		})
	}
}

// Noise is not a flat line: no asystole while 60 s of 0.6 mV noise replace
// the ECG, the quality falls below the gate within 3 s and the rate is not
// shown.
func TestNoiseIsNotAsystole(t *testing.T) {
	for _, kind := range []ecgtest.NoiseKind{ecgtest.White, ecgtest.Muscle} {
		for _, replace := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s replace %v", kind, replace), func(t *testing.T) {
				x := ecgtest.Render(ecgtest.Rhythm(120, ecgtest.Regular(75)), fs, 120)
				nz := ecgtest.Noise(kind, fs, 60, 0.6, 7)
				if replace {
					x = ecgtest.ReplaceWith(x, fs, 30, nz)
				} else {
					x = ecgtest.AddTo(x, fs, 30, nz)
				}
				st := seconds(newMonitor(t), x)
				for s := 10; s < 29; s++ {
					if st[s].Noisy || st[s].Quality < 0.8 || !st[s].HRValid {
						t.Fatalf("clean second %d: %+v", s+1, st[s])
					}
				}
				for s := 29; s < 90; s++ {
					if st[s].Asystole {
						t.Errorf("asystole at second %d in noise", s+1)
					}
					if s >= 32 && (!st[s].Noisy || st[s].HRValid || st[s].Quality >= ecg.QualityGate) {
						t.Errorf("second %d in noise: %+v, want noisy, quality < gate, no HR", s+1, st[s])
					}
				}
				if !st[110].HRValid || st[110].Noisy {
					t.Errorf("second 111, after the noise: %+v", st[110])
				}
			})
		}
	}
}

// A pause shows as LongestGap, even when the beat ending it comes between
// two calls of Status, and is not noise; a pause longer than the asystole
// delay on a flat line is asystole.
func TestPause(t *testing.T) {
	for _, c := range []struct {
		pause    float64
		asystole bool
	}{{3.5, false}, {5.9, true}} {
		t.Run(fmt.Sprint(c.pause), func(t *testing.T) {
			cs := ecgtest.Rhythm(45, func(k int, at float64) (ecgtest.Complex, float64) {
				if k == 24 {
					return ecgtest.Normal(at), c.pause
				}
				return ecgtest.Normal(at), 0.8
			})
			st := seconds(newMonitor(t), ecgtest.Render(cs, fs, 45))
			longest, asy := 0.0, false
			for s := 19; s < 30; s++ {
				longest = math.Max(longest, st[s].LongestGap)
				asy = asy || st[s].Asystole
				if st[s].Noisy {
					// A flat line is not noise: the pause alarm would be
					// held.
					t.Errorf("second %d: noisy in a pause on a flat line", s+1)
				}
			}
			if math.Abs(longest-c.pause) > 0.05 || asy != c.asystole {
				t.Errorf("longest gap %.2f s, asystole %v; want %.1f s, %v", longest, asy, c.pause, c.asystole)
			}
			for s := 5; s < 18; s++ {
				if st[s].LongestGap > 0.85 || st[s].Asystole {
					t.Errorf("second %d: gap %.2f s, asystole %v in a regular rhythm", s+1, st[s].LongestGap, st[s].Asystole)
				}
			}
		})
	}
}

// A long standstill with 0.1 mV of noise stays asystole: the detector's
// falling threshold finds noise peaks, but they are not QRS complexes. At
// 250 /s the noise has more power in the QRS band and some peaks pass as
// credible complexes: they do not end a declared standstill either.
func TestLongAsystole(t *testing.T) {
	for _, rate := range []float64{250, 360, 500} {
		for seed := uint64(1); seed <= 5; seed++ {
			x := ecgtest.Render(ecgtest.Rhythm(90, ecgtest.Regular(75)), rate, 90)
			x = ecgtest.Asystole(x, rate, 20, 60, 0.1, seed)
			m, err := ecg.NewMonitor(ecg.MonitorOptions{Options: ecg.Options{Rate: rate}, AsystoleAfter: 4 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			var st []ecg.Status
			for i, v := range x {
				m.Push(v, true)
				if (i+1)%int(rate) == 0 {
					st = append(st, m.Status())
				}
			}
			first := -1
			for s := 20; s < 80; s++ {
				if st[s].Asystole && first < 0 {
					first = s + 1
				}
				if first > 0 && s < 79 && (!st[s].Asystole || st[s].HRValid) {
					t.Errorf("%v /s, seed %d: second %d of a 60 s standstill: %+v", rate, seed, s+1, st[s])
					break
				}
			}
			if first < 0 || first > 28 {
				t.Errorf("%v /s, seed %d: asystole first at second %d, want by 28 (standstill from 20 s)", rate, seed, first)
			}
			if !st[86].HRValid || st[86].Asystole {
				t.Errorf("%v /s, seed %d: second 87, beats back: %+v", rate, seed, st[86])
			}
		}
	}
}

// The Monitor allocates nothing per sample, Status included, also when
// samples are lost (short and long stretches, judged for the pause).
func TestMonitorDoesNotAllocate(t *testing.T) {
	x := ecgtest.Render(ecgtest.Rhythm(20, ecgtest.Regular(75)), fs, 20)
	m := newMonitor(t)
	seconds(m, x) // warm up
	i := 0
	allocs := testing.AllocsPerRun(2000, func() {
		m.Push(x[i%len(x)], i%300 >= 30 && i%97 != 0)
		if i%int(fs) == 0 {
			m.Status()
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("%.2f allocations per sample", allocs)
	}
}

// BenchmarkMonitorRecord runs the Monitor (detector, heart rate, quality,
// asystole timing) over the carried 5-minute excerpt of record 101 and
// reports throughput as multiples of real time on one core.
func BenchmarkMonitorRecord(b *testing.B) {
	h, x, ok := loadRecord(b, mitdb+"/x_101")
	ch := h.FindSignal("MLII")
	for b.Loop() {
		m, _ := ecg.NewMonitor(ecg.MonitorOptions{Options: ecg.Options{Rate: h.Freq}, AsystoleAfter: 4 * time.Second})
		for i := range x[ch] {
			m.Push(x[ch][i], ok[ch][i])
			if (i+1)%int(h.Freq) == 0 {
				m.Status()
			}
		}
	}
	b.ReportMetric(float64(len(x[ch]))*float64(b.N)/b.Elapsed().Seconds()/h.Freq, "x_realtime")
}
