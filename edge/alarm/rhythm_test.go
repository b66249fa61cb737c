package alarm

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rhythmFeed calls Rhythm once a second from..to with one observation.
func rhythmFeed(m *Manager, c Condition, o Observation, from, to float64) []Transition {
	var out []Transition
	for s := from; s <= to; s++ {
		out = append(out, m.Rhythm(at(s), c, o, s-from)...)
	}
	return out
}

func TestAsystole(t *testing.T) {
	m := newM(t, nil)
	got := rhythmFeed(m, Asystole, Absent, 0, 5)
	// Present is raised at once (the delay is in the ECG stage's
	// definition), high priority, with the seconds without a QRS.
	got = append(got, m.Rhythm(at(6), Asystole, Present, 4.2)...)
	if d := cmp.Diff([]brief{{Raised, Asystole, High, 6}}, briefs(got)); d != "" {
		t.Fatalf("raise (-want +got):\n%s", d)
	}
	if got[0].Kind != Physiological || got[0].Vital != HR || got[0].Value != 4.2 || got[0].Limit != 4 {
		t.Errorf("raised %+v, want physiological hr, value 4.2 s, limit 4 s", got[0])
	}
	// Unknown (lead off) neither clears nor re-raises.
	if got = rhythmFeed(m, Asystole, Unknown, 7, 30); got != nil {
		t.Fatalf("unknown changed asystole: %+v", briefs(got))
	}
	// Beats back: cleared after the clear delay (2 s).
	got = rhythmFeed(m, Asystole, Absent, 31, 40)
	if d := cmp.Diff([]brief{{Cleared, Asystole, High, 33}}, briefs(got)); d != "" {
		t.Errorf("clear (-want +got):\n%s", d)
	}
}

func TestAsystolePriorityIsFixed(t *testing.T) {
	m := newM(t, func(c *Config) { c.HR.Enabled = false; c.HR.CriticalPriority = Low })
	got := m.Rhythm(at(0), Asystole, Present, 5)
	if len(got) != 1 || got[0].Priority != High {
		t.Fatalf("asystole with HR limits off: %+v, want one high alarm", got)
	}
}

func TestPause(t *testing.T) {
	m := newM(t, nil)
	got := m.Rhythm(at(0), Pause, Present, 3.4)
	got = append(got, rhythmFeed(m, Pause, Absent, 1, 20)...)
	// Shown for the clear delay (10 s) after the beats are back.
	want := []brief{{Raised, Pause, Medium, 0}, {Cleared, Pause, Medium, 11}}
	if d := cmp.Diff(want, briefs(got)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	m = newM(t, func(c *Config) { c.Pause.Enabled = false })
	if got := m.Rhythm(at(0), Pause, Present, 5); got != nil {
		t.Errorf("disabled pause raised %+v", got)
	}
	// Other conditions are not rhythm conditions.
	if got := m.Rhythm(at(0), BelowLow, Present, 5); got != nil {
		t.Errorf("Rhythm(low) raised %+v", got)
	}
}

// Hold suspends limit alarms without raising no_data.
func TestHold(t *testing.T) {
	m := newM(t, nil)
	feed(m, HR, 0, 3, 70)
	m.Update(at(4), HR, 130, true)
	var got []Transition
	for s := 5.0; s <= 60; s++ {
		got = append(got, m.Hold(at(s), HR)...)
	}
	if got != nil {
		t.Fatalf("held HR raised %+v", briefs(got))
	}
	// An active alarm is held, not cleared.
	feed(m, HR, 61, 70, 130)
	for s := 71.0; s <= 120; s++ {
		got = append(got, m.Hold(at(s), HR)...)
	}
	if got != nil || len(m.Active()) != 1 {
		t.Fatalf("hold changed an active alarm: %+v, active %+v", briefs(got), m.Active())
	}
	// Invalid values instead of Hold: no_data after stale_after.
	m = newM(t, nil)
	feed(m, HR, 0, 3, 70)
	for s := 4.0; s <= 20; s++ {
		got = append(got, m.Update(at(s), HR, 0, false)...)
	}
	if len(got) != 1 || got[0].Condition != NoData {
		t.Errorf("invalid values: %+v, want no_data", briefs(got))
	}
}

// Instant moves the start of the condition delay back to the first beat
// beyond the limit: the averaging does not add to the delay.
func TestInstantBackdates(t *testing.T) {
	m := newM(t, nil)
	feed(m, HR, 0, 10, 72)
	// The patient goes to 170 /min at 10.5 s; the average needs three
	// seconds to cross 150.
	for t := 10.5; t < 20; t += 60.0 / 170 {
		m.Instant(at(t), HR, 170)
	}
	var got []Transition
	for s := 11.0; s <= 15; s++ {
		v := 72.0
		if s >= 14 {
			v = 160
		}
		got = append(got, m.Update(at(s), HR, v, true)...)
	}
	got = append(got, m.Tick(at(15.4))...)
	got = append(got, m.Tick(at(15.6))...)
	want := []brief{{Raised, AboveCriticalHigh, High, 15.6}, {Raised, AboveHigh, Medium, 15.6}}
	if d := cmp.Diff(want, briefs(got)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// A run interrupted by two beats inside the limit starts again (one
	// does not end it: below); a run older than MaxBackdate is not used.
	m = newM(t, nil)
	m.Instant(at(0), HR, 170)
	m.Instant(at(1), HR, 100)
	m.Instant(at(1.5), HR, 100)
	m.Instant(at(2), HR, 170)
	got = m.Update(at(4), HR, 160, true)
	got = append(got, m.Tick(at(6.9))...)
	got = append(got, m.Tick(at(7))...)
	if d := cmp.Diff([]brief{{Raised, AboveCriticalHigh, High, 7}, {Raised, AboveHigh, Medium, 7}}, briefs(got)); d != "" {
		t.Errorf("interrupted run (-want +got):\n%s", d)
	}
	m = newM(t, nil)
	m.Instant(at(0), HR, 170)
	m.Instant(at(0.5), HR, 100) // a missed beat
	m.Instant(at(1), HR, 170)
	got = m.Update(at(4), HR, 160, true)
	got = append(got, m.Tick(at(4.9))...)
	got = append(got, m.Tick(at(5))...)
	if d := cmp.Diff([]brief{{Raised, AboveCriticalHigh, High, 5}, {Raised, AboveHigh, Medium, 5}}, briefs(got)); d != "" {
		t.Errorf("run through one missed beat (-want +got):\n%s", d)
	}
	m = newM(t, nil)
	m.Instant(at(0), HR, 170)
	got = m.Update(at(0).Add(MaxBackdate+time.Second), HR, 160, true)
	if got != nil {
		t.Errorf("run older than MaxBackdate raised at once: %+v", briefs(got))
	}
	// Hold (noise) ends the run.
	m = newM(t, nil)
	m.Instant(at(0), HR, 170)
	m.Hold(at(1), HR)
	if got = m.Update(at(2), HR, 160, true); got != nil {
		t.Errorf("run survived Hold: %+v", briefs(got))
	}
}

func TestConditionText(t *testing.T) {
	for c, want := range map[Condition]string{Noise: "ECG noise / artefact", Asystole: "asystole", BelowCriticalLow: "critically low", "odd": "odd"} {
		if got := c.Text(); got != want {
			t.Errorf("%s.Text() = %q, want %q", c, got, want)
		}
	}
}

// A value briefly invalid (pulses disagreeing during a fast desaturation)
// does not restart the run of beat-to-beat values.
func TestInstantRunSurvivesInvalidValue(t *testing.T) {
	m := newM(t, nil)
	feed(m, SpO2, 0, 10, 97)
	for s := 10.5; s < 25; s++ {
		m.Instant(at(s), SpO2, 80)
	}
	m.Update(at(11), SpO2, 95, true)
	m.Update(at(12), SpO2, 0, false)
	got := m.Update(at(13), SpO2, 83, true)
	got = append(got, m.Tick(at(20.4))...)
	got = append(got, m.Tick(at(20.6))...)
	want := []brief{{Raised, BelowCriticalLow, High, 20.6}, {Raised, BelowLow, Medium, 20.6}}
	if d := cmp.Diff(want, briefs(got)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
