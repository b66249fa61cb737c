package pipeline

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"medagent/edge/alarm"
	"medagent/sensors"
	"medagent/telemetry"
)

// ppgSignal is a synthetic finger PPG at 100 Hz, 75 /min, R = 0.52 (SpO2
// 97 % with the default calibration) and perfusion index pi %, counts
// falling as each pulse arrives, as a MAX3010x gives them. From motionAt
// on, motion artefact: DC jumps of up to 30 % and pulse amplitudes
// scattered by a factor of up to 4, every 0.3-1 s.
func ppgSignal(seconds, pi, motionAt float64) (red, ir []float64) {
	const fs, rr, ratio, dc = 100.0, 0.8, 0.52, 100000.0
	r := rand.New(rand.NewPCG(4, 2))
	shift, gain, next := 1.0, 1.0, motionAt
	for i := 0; i < int(seconds*fs); i++ {
		t := float64(i) / fs
		if t >= motionAt && t >= next {
			shift, gain = 1+0.3*(2*r.Float64()-1), math.Exp2(4*r.Float64()-2)
			next = t + 0.3 + 0.7*r.Float64()
		}
		ph := math.Mod(t, rr) / rr
		pulse := math.Exp(-0.5 * math.Pow((ph-0.2)/0.08, 2)) // systolic peak
		ac := gain * pi / 100 * pulse
		ir = append(ir, shift*dc*(1-ac))
		red = append(red, shift*0.8*dc*(1-ratio*ac))
	}
	return red, ir
}

func runPPG(t *testing.T, red, ir []float64) [][]telemetry.Pack {
	t.Helper()
	p, err := New(Config{Window: time.Second, Alarms: alarm.Defaults()},
		[]Sensor{{Name: "ppg", Kind: PPG, Rate: 100, Streams: []Stream{{"1", MDCPlethRed}, {"1", MDCPlethIR}}}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_800_000_000, 0)
	var out [][]telemetry.Pack
	for s := 0; (s+1)*100 <= len(ir); s++ {
		at := t0.Add(time.Duration(s) * time.Second)
		b := []sensors.Block{{Wall: at, Rate: 100}, {Wall: at, Rate: 100}}
		for i := s * 100; i < (s+1)*100; i++ {
			b[0].Append(red[i], true)
			b[1].Append(ir[i], true)
		}
		p.Push("ppg", b)
		out = append(out, p.Flush(at.Add(time.Second)))
	}
	return out
}

// The PPG's quality gate: SpO2 and pulse rate shown on a clean signal, not
// shown (and not alarmed on) during motion artefact or low perfusion, with
// the low-priority technical alarm poor_signal within 10 s.
func TestPPGQualityGate(t *testing.T) {
	for _, c := range []struct {
		name       string
		pi, motion float64
	}{{"motion", 2, 30}, {"low perfusion", 0.15, 1000}} {
		t.Run(c.name, func(t *testing.T) {
			red, ir := ppgSignal(70, 2, c.motion)
			if c.pi < 1 {
				// Perfusion falls at 30 s.
				lr, li := ppgSignal(70, c.pi, c.motion)
				copy(red[3000:], lr[3000:])
				copy(ir[3000:], li[3000:])
			}
			secs := runPPG(t, red, ir)
			shown := func(s int) (spo2, pr bool) {
				for _, pk := range secs[s] {
					for _, r := range pk.Records {
						if r.Value != nil && r.Name == MDCSpO2 {
							spo2 = true
						}
						if r.Value != nil && r.Name == MDCPulseRate {
							pr = true
						}
					}
				}
				return
			}
			for s := 15; s < 30; s++ {
				if a, b := shown(s); !a || !b {
					t.Fatalf("clean second %d: SpO2 shown %v, PR shown %v", s+1, a, b)
				}
			}
			var poor []int
			for s, packs := range secs {
				for _, e := range alarmEvents([][]telemetry.Pack{packs}) {
					if e.event != "raised" {
						continue
					}
					if e.stream != "tech-ppg" {
						t.Errorf("second %d: alarm %+v during the artefact", s+1, e)
					}
					if e.cond == "poor_signal" && e.prio == "low" {
						poor = append(poor, s+1)
					}
				}
			}
			if len(poor) == 0 || poor[0] < 30 || poor[0] > 40 {
				t.Errorf("poor_signal raised at %v, want within 10 s of 30 s", poor)
			}
			n := 0
			for s := 35; s < 70; s++ {
				if a, b := shown(s); a || b {
					n++
				}
			}
			if n > 3 {
				t.Errorf("SpO2 or PR shown for %d of the 35 s of artefact", n)
			}
		})
	}
}
