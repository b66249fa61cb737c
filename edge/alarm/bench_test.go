package alarm

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkUpdate is the cost of one value with no transition due.
func BenchmarkUpdate(b *testing.B) {
	m := newM(b, nil)
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(10 * time.Millisecond)
		m.Update(now, SpO2, 97, true)
	}
}

// BenchmarkAlarmLatency measures, through the API with an injected clock,
// the time from the first out-of-range value to the raised transition, for
// values arriving at several rates. The value is outside the limit from an
// instant that is not on the update grid. The result is the configured
// onset delay plus at most one update period: the manager adds nothing.
func BenchmarkAlarmLatency(b *testing.B) {
	for _, c := range []struct {
		vital    Vital
		normal   float64
		abnormal float64
	}{{HR, 70, 130}, {SpO2, 97, 88}, {Temp, 37, 39.5}} {
		for _, period := range []time.Duration{time.Second, 250 * time.Millisecond, 10 * time.Millisecond} {
			b.Run(fmt.Sprintf("%s/every=%v", c.vital, period), func(b *testing.B) {
				var lat time.Duration
				for b.Loop() {
					lat = latency(b, c.vital, c.normal, c.abnormal, period)
				}
				b.ReportMetric(lat.Seconds(), "s_latency")
			})
		}
	}
}

func latency(b testing.TB, v Vital, normal, abnormal float64, period time.Duration) time.Duration {
	m := newM(b, nil)
	onsetAt := t0.Add(3*time.Second + 370*time.Millisecond)
	var first time.Time
	for now := t0; now.Before(t0.Add(time.Minute)); now = now.Add(period) {
		val := normal
		if !now.Before(onsetAt) {
			val = abnormal
			if first.IsZero() {
				first = now
			}
		}
		for _, tr := range m.Update(now, v, val, true) {
			if tr.Event == Raised {
				return tr.Time.Sub(first)
			}
		}
	}
	b.Fatalf("%s: no alarm raised", v)
	return 0
}

func TestLatencyIsOnsetDelay(t *testing.T) {
	d := Defaults()
	for _, c := range []struct {
		v       Vital
		a, n    float64
		onset   time.Duration
		periods []time.Duration
	}{
		{HR, 130, 70, d.HR.OnsetDelay, []time.Duration{time.Second, 300 * time.Millisecond}},
		{SpO2, 88, 97, d.SpO2.OnsetDelay, []time.Duration{time.Second, 300 * time.Millisecond}},
	} {
		for _, p := range c.periods {
			got := latency(t, c.v, c.n, c.a, p)
			// The first value on or after onset_delay raises.
			want := ((c.onset + p - 1) / p) * p
			if got != want {
				t.Errorf("%s every %v: latency %v, want %v", c.v, p, got, want)
			}
		}
	}
}
