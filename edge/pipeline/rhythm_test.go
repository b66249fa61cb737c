package pipeline

import (
	"testing"
	"time"

	"medagent/edge/alarm"
	"medagent/edge/ecg/ecgtest"
	"medagent/sensors"
	"medagent/telemetry"
)

// ecgRun pushes a lead at rate Hz through a pipeline of one ECG sensor, a
// second at a time, and returns the packs of each second.
func ecgRun(t *testing.T, x []float64, rate float64) [][]telemetry.Pack {
	t.Helper()
	return ecgRunValid(t, x, nil, rate)
}

// ecgRunValid is ecgRun with the validity of each sample (nil: all valid),
// as a sensor that lost samples delivers them.
func ecgRunValid(t *testing.T, x []float64, ok []bool, rate float64) [][]telemetry.Pack {
	t.Helper()
	p, err := New(Config{Window: time.Second, Alarms: alarm.Defaults()},
		[]Sensor{{Name: "ecg", Kind: ECG, Rate: rate, Streams: []Stream{{"mV", MDCECGLeadII}}}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_800_000_000, 0)
	n := int(rate)
	var out [][]telemetry.Pack
	for s := 0; (s+1)*n <= len(x); s++ {
		at := t0.Add(time.Duration(s) * time.Second)
		b := sensors.Block{Wall: at, Rate: rate}
		for i, v := range x[s*n : (s+1)*n] {
			b.Append(v, ok == nil || ok[s*n+i])
		}
		p.Push("ecg", []sensors.Block{b})
		out = append(out, p.Flush(at.Add(time.Second)))
	}
	return out
}

// alarmEvent is one alarm pack, flattened.
type alarmEvent struct {
	sec                             int
	stream, event, prio, cond, text string
	duration                        float64
}

func alarmEvents(secs [][]telemetry.Pack) []alarmEvent {
	var out []alarmEvent
	for s, packs := range secs {
		for _, pk := range packs {
			if pk.Class != telemetry.ClassAlarm {
				continue
			}
			e := alarmEvent{sec: s + 1, stream: pk.Stream}
			for _, r := range pk.Records {
				switch r.Name {
				case "alarm/event":
					e.event = r.String
				case "alarm/priority":
					e.prio = r.String
				case "alarm/condition":
					e.cond = r.String
				case "alarm/text":
					e.text = r.String
				case "alarm/duration":
					e.duration = *r.Value
				}
			}
			out = append(out, e)
		}
	}
	return out
}

// hrOf returns the heart rate of a second and whether it was valid.
func hrOf(packs []telemetry.Pack) (float64, bool, bool) {
	var v float64
	var has, valid bool
	for _, pk := range packs {
		if pk.Stream != "ecg" {
			continue
		}
		for _, r := range pk.Records {
			switch r.Name {
			case MDCHeartRate:
				v, has = *r.Value, true
			case MDCHeartRate + "/valid":
				valid = *r.Bool
			}
		}
	}
	return v, has, valid
}

// Cardiac standstill: a high-priority asystole alarm at most 6 s after the
// last beat, a pause alarm before it, the rate shown as 0, no no_data, and
// both cleared when the beats return.
func TestAsystoleAlarm(t *testing.T) {
	const rate = 500
	x := ecgtest.Render(ecgtest.Rhythm(90, ecgtest.Regular(72)), rate, 90)
	x = ecgtest.Asystole(x, rate, 40, 12, 0.03, 1)
	secs := ecgRun(t, x, rate)
	var raised, cleared []alarmEvent
	for _, e := range alarmEvents(secs) {
		if e.event == "raised" {
			raised = append(raised, e)
		} else if e.event == "cleared" {
			cleared = append(cleared, e)
		}
	}
	// The last beat before the splice is at most one R-R (0.83 s) before 40 s.
	if len(raised) != 2 || raised[0].cond != "pause" || raised[1].cond != "asystole" ||
		raised[1].prio != "high" || raised[1].stream != "hr" || raised[1].sec > 46 || raised[1].sec < 43 {
		t.Fatalf("raised %+v, want pause then high asystole on hr by 46 s", raised)
	}
	if raised[1].text != "asystole" || raised[1].duration < 4 || raised[1].duration > 5.5 {
		t.Errorf("asystole pack %+v, want text and 4-5.5 s without a QRS", raised[1])
	}
	if len(cleared) != 2 {
		t.Errorf("cleared %+v, want pause and asystole cleared after the beats return", cleared)
	}
	for s := raised[1].sec; s < 52; s++ {
		if hr, has, valid := hrOf(secs[s-1]); !has || !valid || hr != 0 {
			t.Errorf("second %d of asystole: HR %v (record %v, valid %v), want 0", s, hr, has, valid)
		}
	}
}

// Noise: the heart rate has no value (and valid false), no physiological
// alarm is raised, and the low-priority technical alarm "ECG noise /
// artefact" comes within 10 s.
func TestNoiseAlarm(t *testing.T) {
	const rate = 500
	x := ecgtest.Render(ecgtest.Rhythm(150, ecgtest.Regular(72)), rate, 150)
	x = ecgtest.ReplaceWith(x, rate, 40, ecgtest.Noise(ecgtest.Muscle, rate, 60, 0.6, 2))
	secs := ecgRun(t, x, rate)
	var tech *alarmEvent
	for _, e := range alarmEvents(secs) {
		if e.event != "raised" {
			continue
		}
		if e.stream != "tech-ecg" {
			t.Errorf("physiological alarm %+v in noise", e)
			continue
		}
		if tech == nil {
			tech = &e
		}
	}
	if tech == nil || tech.cond != "noise" || tech.prio != "low" || tech.text != "ECG noise / artefact" || tech.sec > 50 {
		t.Fatalf("technical alarm %+v, want low noise alarm by 50 s", tech)
	}
	shown := 0
	for s := 41; s <= 100; s++ {
		if _, has, valid := hrOf(secs[s-1]); has || valid {
			shown++
		}
	}
	if shown > 3 {
		t.Errorf("heart rate shown for %d s of noise, want at most 3", shown)
	}
	if _, has, valid := hrOf(secs[130]); !has || !valid {
		t.Errorf("no heart rate 30 s after the noise")
	}
}

// With Tick between windows, a heart-rate step raises its alarm when the
// condition delay, counted from the first beat at the new rate, ends: the
// 12-interval average and the window add nothing to the 5 s delay. The
// patient's rate steps from 72 to 170 /min at 30 s (the first beat at the
// new rate comes with the next beat, up to 0.83 s later).
func TestTickRaisesAtTheConditionDelay(t *testing.T) {
	const rate = 500
	x := ecgtest.Render(ecgtest.Rhythm(50, ecgtest.Step(72, 170, 30)), rate, 50)
	p, err := New(Config{Window: time.Second, Alarms: alarm.Defaults()},
		[]Sensor{{Name: "ecg", Kind: ECG, Rate: rate, Streams: []Stream{{"mV", MDCECGLeadII}}}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_800_000_000, 0)
	const tick = rate / 10 // 100 ms
	var raised time.Time
	for k := 0; (k+1)*tick <= len(x) && raised.IsZero(); k++ {
		at := t0.Add(time.Duration(k) * 100 * time.Millisecond)
		b := sensors.Block{Wall: at, Rate: rate}
		for _, v := range x[k*tick : (k+1)*tick] {
			b.Append(v, true)
		}
		p.Push("ecg", []sensors.Block{b})
		end := at.Add(100 * time.Millisecond)
		var packs []telemetry.Pack
		if (k+1)%10 == 0 {
			packs = p.Flush(end)
		} else {
			packs = p.Tick(end)
		}
		for _, e := range alarmEvents([][]telemetry.Pack{packs}) {
			if e.event == "raised" && e.cond == "critical_high" && e.prio == "high" {
				raised = end
			}
		}
	}
	lat := raised.Sub(t0.Add(30 * time.Second))
	t.Logf("step to high alarm: %v (onset delay 5 s)", lat)
	if raised.IsZero() || lat > 6500*time.Millisecond || lat < 5*time.Second {
		t.Errorf("alarm %v after the step, want 5 s plus at most 1.5 s", lat)
	}
}
