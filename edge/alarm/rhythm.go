package alarm

import (
	"math"
	"time"
)

// MaxBackdate bounds how far back Instant values can move the start of a
// limit alarm's condition delay.
const MaxBackdate = 15 * time.Second

// Rhythm sets a rhythm condition of the ECG (Asystole or Pause) at now and
// returns the transitions due. The caller applies the condition's own
// definition (no QRS complex for the configured delay on a flat, connected
// lead; an R-R interval beyond the pause limit), so it is raised at once
// when Present; seconds is the time without a QRS complex. Unknown (no
// signal, or the pause suspended by noise) neither raises nor clears. Other
// conditions, and Pause when it is disabled, are ignored.
func (m *Manager) Rhythm(now time.Time, c Condition, o Observation, seconds float64) []Transition {
	for _, s := range m.rhythm {
		if s.cond != c {
			continue
		}
		if o == Unknown || math.IsNaN(seconds) || math.IsInf(seconds, 0) {
			s.unknown()
			continue
		}
		s.observe(now, o == Present, o == Absent, seconds)
	}
	m.advance(now)
	return m.flush()
}

// Hold withholds a vital's value at now for a reason the caller reports on
// its own (the ECG's noise alarm, asystole): its limit alarms can neither
// start nor clear, as for an invalid value, but the vital does not count as
// silent, so no_data is not raised on top of that reason.
func (m *Manager) Hold(now time.Time, v Vital) []Transition {
	if vs := m.vital(v); vs != nil && vs.cfg.Enabled {
		vs.seen, vs.lastValid = true, now
		for _, s := range vs.slots {
			s.unknown()
			s.runFrom, s.runMiss = time.Time{}, 0 // the beats under the noise are not evidence
		}
	}
	m.advance(now)
	return m.flush()
}

// Instant notes a beat-to-beat value of a vital at time at (the heart rate
// of one R-R interval, the SpO2 of one pulse). Values are averaged before
// Update, and the average crosses a limit some beats after the patient did;
// when it does, the condition delay counts from the first beat of the
// run of beat-to-beat values beyond that limit (at most MaxBackdate
// earlier; one value inside the limit between two beyond it, as a missed
// or a premature beat gives, does not end a run, two in a row do), so the
// averaging does not add to the alarm condition delay. A value that is not
// finite ends every run. Instant
// raises nothing by itself.
func (m *Manager) Instant(at time.Time, v Vital, value float64) {
	vs := m.vital(v)
	if vs == nil || !vs.cfg.Enabled {
		return
	}
	ok := !math.IsNaN(value) && !math.IsInf(value, 0)
	for _, s := range vs.slots {
		beyond := ok && ((s.below && value < s.limit) || (!s.below && value > s.limit))
		switch {
		case beyond:
			s.runMiss = 0
			if s.runFrom.IsZero() {
				s.runFrom = at
			}
		case ok && s.runMiss == 0 && !s.runFrom.IsZero():
			// One beat inside the limit (a missed or a premature beat)
			// does not end the run; a second in a row does.
			s.runMiss = 1
		default:
			s.runFrom, s.runMiss = time.Time{}, 0
		}
	}
}
