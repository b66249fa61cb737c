package alarm

import "time"

type phase int

const (
	idle    phase = iota
	pending       // condition present, onset delay running
	active        // raised
)

// slot is the state machine of one alarm condition: one limit of one vital,
// or one technical condition of one source.
type slot struct {
	kind      Kind
	vital     Vital
	source    string
	cond      Condition
	prio      Priority
	limit     float64
	below     bool // a low limit: the condition is value < limit
	hyst      float64
	onset     time.Duration
	clear     time.Duration
	latching  bool
	phase     phase
	since     time.Time // pending: first observation; active: raised
	clearFrom time.Time // back inside since; zero when not
	present   bool      // active: the condition still holds (false: latched)
	acked     bool
	id        ID
	value     float64
	// runFrom is the first beat of the current run of beat-to-beat values
	// beyond the limit (Manager.Instant); zero when there is none.
	runFrom time.Time
	runMiss int // values inside the limit in a row since the run's last one beyond
}

// observe feeds one observation: breach is the condition holding, inside
// the value back within the limit by the hysteresis margin.
func (s *slot) observe(now time.Time, breach, inside bool, value float64) {
	if s.kind == Physiological {
		s.value = value
	}
	switch s.phase {
	case idle:
		if breach {
			s.phase, s.since = pending, now
			if !s.runFrom.IsZero() && s.runFrom.Before(now) && now.Sub(s.runFrom) <= MaxBackdate {
				s.since = s.runFrom
			}
		}
	case pending:
		if !breach {
			s.phase = idle
		}
	case active:
		if breach {
			s.present = true
		}
		switch {
		case !inside:
			s.clearFrom = time.Time{}
		case s.present && s.clearFrom.IsZero():
			s.clearFrom = now
		}
	}
}

// unknown is an invalid observation: nothing can start or clear on it. A
// run of beat-to-beat values beyond the limit is kept (a value that is
// briefly invalid while pulses disagree, as in a fast desaturation, does
// not restart the condition delay); Manager.Hold ends it.
func (s *slot) unknown() {
	switch s.phase {
	case pending:
		s.phase = idle
	case active:
		s.clearFrom = time.Time{}
	}
}

// advance fires the delays that have run out at now.
func (s *slot) advance(now time.Time, m *Manager) {
	switch s.phase {
	case pending:
		if now.Sub(s.since) >= s.onset {
			m.nextID++
			s.phase, s.id, s.since = active, m.nextID, now
			s.present, s.acked, s.clearFrom = true, false, time.Time{}
			m.emit(s, Raised, now)
		}
	case active:
		if !s.present || s.clearFrom.IsZero() || now.Sub(s.clearFrom) < s.clear {
			return
		}
		s.clearFrom = time.Time{}
		if s.latching && !s.acked {
			s.present = false // stays active until acknowledged
			return
		}
		s.end(now, m)
	}
}

func (s *slot) end(now time.Time, m *Manager) {
	m.emit(s, Cleared, now)
	s.phase, s.present, s.acked, s.id = idle, false, false, 0
}

func (s *slot) alarm() Alarm {
	a := Alarm{
		ID: s.id, Kind: s.kind, Vital: s.vital, Source: s.source, Condition: s.cond,
		Priority: s.prio, Since: s.since, Present: s.present, Acknowledged: s.acked,
	}
	if s.kind == Physiological {
		a.Value, a.Limit = s.value, s.limit
	}
	return a
}
