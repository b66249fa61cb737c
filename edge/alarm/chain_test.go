package alarm_test

import (
	"math"
	"testing"
	"time"

	"medagent/edge/alarm"
	"medagent/edge/ppg"
)

// desat feeds a 100 Hz red/IR signal at 72 /min through edge/ppg and hands
// its values to the manager once a second, as the agent does. SpO2 steps
// from 97 to target at stepAt. It returns the time from the step to the
// first raised SpO2 alarm and the transitions seen.
func desat(tb testing.TB, target float64, stepAt, total time.Duration) (time.Duration, []alarm.Transition) {
	const fs = 100.0
	p, err := ppg.New(ppg.Defaults())
	if err != nil {
		tb.Fatal(err)
	}
	m, err := alarm.New(alarm.Defaults())
	if err != nil {
		tb.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var all []alarm.Transition
	latency := time.Duration(-1)
	n := int(total.Seconds() * fs)
	for i := 0; i < n; i++ {
		now := t0.Add(time.Duration(float64(i) / fs * float64(time.Second)))
		spo2 := 97.0
		if now.Sub(t0) >= stepAt {
			spo2 = target
		}
		// Sine pulses, PI 2 %, red AC/DC chosen for SpO2 = 110 − 25·R.
		w := 0.5 * math.Sin(2*math.Pi*1.2*float64(i)/fs)
		r := (110 - spo2) / 25
		res := p.Push(90000*(1+r*0.02*w), 120000*(1+0.02*w), true)
		if i%int(fs) != 0 {
			continue
		}
		out := m.Update(now, alarm.SpO2, res.SpO2, res.SpO2Valid)
		out = append(out, m.Update(now, alarm.PulseRate, res.PulseRate, res.RateValid)...)
		out = append(out, m.Tick(now)...)
		for _, tr := range out {
			if tr.Event == alarm.Raised && tr.Vital == alarm.SpO2 && latency < 0 {
				latency = now.Sub(t0) - stepAt
			}
		}
		all = append(all, out...)
	}
	return latency, all
}

// TestDesaturationAlarm runs the chain from PPG samples to alarms.
func TestDesaturationAlarm(t *testing.T) {
	lat, trs := desat(t, 87, 30*time.Second, 60*time.Second)
	if len(trs) != 1 || trs[0].Condition != alarm.BelowLow || trs[0].Priority != alarm.Medium {
		t.Fatalf("transitions = %+v, want one medium SpO2 low", trs)
	}
	// The pulse average (8 pulses, 6.7 s at 72 /min) crosses 90 % part way,
	// then the 10 s onset delay runs.
	t.Logf("SpO2 97 → 87 %%: alarm %v after the step", lat)
	if lat < 10*time.Second || lat > 18*time.Second {
		t.Errorf("latency %v, want 10..18 s", lat)
	}
	if _, trs := desat(t, 92, 30*time.Second, 60*time.Second); len(trs) != 0 {
		t.Errorf("SpO2 92 %% raised %+v", trs)
	}
}

// BenchmarkSignalToAlarm reports the time from a desaturation in the PPG
// signal to the raised alarm, through edge/ppg and the manager with default
// settings (sampled once a second).
func BenchmarkSignalToAlarm(b *testing.B) {
	var lat time.Duration
	for b.Loop() {
		lat, _ = desat(b, 87, 30*time.Second, 50*time.Second)
	}
	b.ReportMetric(lat.Seconds(), "s_signal_to_alarm")
}
