package alarm

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// ErrUnknownID is returned by Ack for an ID that is not an active alarm.
var ErrUnknownID = errors.New("no active alarm with this id")

// vitalState is one vital's limit slots and freshness.
type vitalState struct {
	name      Vital
	cfg       Limits
	slots     []*slot
	seen      bool
	lastValid time.Time
	stale     *slot // no_data
}

type techKey struct {
	source string
	cond   Condition
}

// Manager is the alarm state machine. It is not safe for concurrent use:
// the agent owns one and feeds it from one goroutine.
type Manager struct {
	cfg    Config
	vitals []*vitalState
	rhythm []*slot // asystole, pause (if enabled)
	tech   map[techKey]*slot
	order  []*slot // technical slots in creation order, for stable output
	nextID ID
	out    []Transition
}

// New returns a Manager for cfg, or an error naming the bad key.
func New(cfg Config) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("alarm: %w", err)
	}
	m := &Manager{cfg: cfg, tech: map[techKey]*slot{}}
	for _, v := range []struct {
		name Vital
		l    Limits
	}{{HR, cfg.HR}, {PulseRate, cfg.PulseRate}, {SpO2, cfg.SpO2}, {Temp, cfg.Temp}} {
		vs := &vitalState{name: v.name, cfg: v.l}
		if v.l.Enabled {
			add := func(c Condition, limit float64, below bool, p Priority) {
				if limit == 0 {
					return
				}
				vs.slots = append(vs.slots, &slot{
					kind: Physiological, vital: v.name, source: string(v.name), cond: c,
					prio: p, limit: limit, below: below, hyst: v.l.Hysteresis,
					onset: v.l.OnsetDelay, clear: v.l.ClearDelay, latching: v.l.Latching,
				})
			}
			// Critical first: transitions of one instant come out
			// highest priority first.
			add(BelowCriticalLow, v.l.CriticalLow, true, v.l.CriticalPriority)
			add(AboveCriticalHigh, v.l.CriticalHigh, false, v.l.CriticalPriority)
			add(BelowLow, v.l.Low, true, v.l.Priority)
			add(AboveHigh, v.l.High, false, v.l.Priority)
			if v.l.StaleAfter > 0 {
				vs.stale = m.techSlot(string(v.name), NoData)
				vs.stale.vital = v.name
			}
		}
		m.vitals = append(m.vitals, vs)
	}
	m.rhythm = append(m.rhythm, &slot{
		kind: Physiological, vital: HR, source: string(HR), cond: Asystole, prio: High,
		limit: cfg.Asystole.Delay.Seconds(), clear: cfg.Asystole.ClearDelay,
	})
	if p := cfg.Pause; p.Enabled {
		m.rhythm = append(m.rhythm, &slot{
			kind: Physiological, vital: HR, source: string(HR), cond: Pause, prio: p.Priority,
			limit: p.Limit.Seconds(), clear: p.ClearDelay,
		})
	}
	return m, nil
}

func (m *Manager) techConfig(c Condition) TechnicalAlarm {
	t := m.cfg.Technical
	switch c {
	case LeadOff:
		return t.LeadOff
	case ProbeOff:
		return t.ProbeOff
	case PoorSignal:
		return t.PoorSignal
	case NoData:
		return t.NoData
	case Noise:
		return t.Noise
	}
	// SensorFault, and any condition the manager does not know: a fault.
	return t.SensorFault
}

func (m *Manager) techSlot(source string, c Condition) *slot {
	k := techKey{source, c}
	if s := m.tech[k]; s != nil {
		return s
	}
	tc := m.techConfig(c)
	s := &slot{
		kind: Technical, source: source, cond: c, prio: tc.Priority,
		onset: tc.OnsetDelay, clear: tc.ClearDelay, latching: tc.Latching,
	}
	m.tech[k] = s
	m.order = append(m.order, s)
	return s
}

func (m *Manager) emit(s *slot, e Event, now time.Time) {
	t := Transition{
		Event: e, ID: s.id, Kind: s.kind, Vital: s.vital, Source: s.source,
		Condition: s.cond, Priority: s.prio, Time: now,
	}
	if s.kind == Physiological {
		t.Value, t.Limit = s.value, s.limit
	}
	m.out = append(m.out, t)
}

// flush returns the transitions of this call; nil when there are none, so
// that a call without transitions does not allocate.
func (m *Manager) flush() []Transition {
	if len(m.out) == 0 {
		return nil
	}
	out := slices.Clone(m.out)
	m.out = m.out[:0]
	return out
}

func (m *Manager) vital(v Vital) *vitalState {
	for _, vs := range m.vitals {
		if vs.name == v {
			return vs
		}
	}
	return nil
}

// Update feeds one value of a vital observed at now; valid false (or a value
// that is not finite) is an invalid value. It returns the transitions due at
// now, of all alarms. Values of a vital that is disabled or unknown are
// ignored.
func (m *Manager) Update(now time.Time, v Vital, value float64, valid bool) []Transition {
	vs := m.vital(v)
	if vs != nil && vs.cfg.Enabled {
		valid = valid && !math.IsNaN(value) && !math.IsInf(value, 0)
		if valid {
			vs.seen, vs.lastValid = true, now
		}
		for _, s := range vs.slots {
			if !valid {
				s.unknown()
				continue
			}
			var breach, inside bool
			if s.below {
				breach, inside = value < s.limit, value >= s.limit+s.hyst
			} else {
				breach, inside = value > s.limit, value <= s.limit-s.hyst
			}
			s.observe(now, breach, inside, value)
		}
	}
	m.advance(now)
	return m.flush()
}

// Technical sets a technical condition of a source (a sensor or stream
// name, from a fixed set) at now and returns the transitions due at now.
// A condition the package does not define is treated as a sensor fault.
// The no_data alarm of a vital (source = the vital's name) is the
// manager's own: a caller's no_data for the same source is overridden.
func (m *Manager) Technical(now time.Time, source string, c Condition, active bool) []Transition {
	m.techSlot(source, c).observe(now, active, !active, 0)
	m.advance(now)
	return m.flush()
}

// Tick runs the delays and the no-data check at now without new input and
// returns the transitions due. The agent calls it about once a second.
func (m *Manager) Tick(now time.Time) []Transition {
	m.advance(now)
	return m.flush()
}

func (m *Manager) advance(now time.Time) {
	for _, vs := range m.vitals {
		if !vs.cfg.Enabled {
			continue
		}
		if vs.stale != nil && vs.seen {
			stale := now.Sub(vs.lastValid) >= vs.cfg.StaleAfter
			vs.stale.observe(now, stale, !stale, 0)
			if stale {
				// Without data no limit alarm may start or clear.
				for _, s := range vs.slots {
					s.unknown()
				}
			}
		}
		for _, s := range vs.slots {
			s.advance(now, m)
		}
	}
	for _, s := range m.rhythm {
		s.advance(now, m)
	}
	for _, s := range m.order {
		s.advance(now, m)
	}
}

func (m *Manager) each(f func(*slot) bool) {
	for _, vs := range m.vitals {
		for _, s := range vs.slots {
			if !f(s) {
				return
			}
		}
	}
	for _, s := range m.rhythm {
		if !f(s) {
			return
		}
	}
	for _, s := range m.order {
		if !f(s) {
			return
		}
	}
}

// Ack acknowledges the active alarm id at now. A latched alarm whose
// condition has ended clears; any other stays active, acknowledged, until
// its condition ends. Acknowledging twice returns no transitions.
func (m *Manager) Ack(now time.Time, id ID) ([]Transition, error) {
	var found *slot
	m.each(func(s *slot) bool {
		if s.phase == active && s.id == id {
			found = s
			return false
		}
		return true
	})
	if found == nil || id == 0 {
		return nil, fmt.Errorf("alarm: ack %d: %w", id, ErrUnknownID)
	}
	if !found.acked {
		found.acked = true
		m.emit(found, Acknowledged, now)
		if !found.present {
			found.end(now, m)
		}
	}
	m.advance(now)
	return m.flush(), nil
}

// Active returns the active alarms, highest priority first, then
// physiological before technical, then oldest first.
func (m *Manager) Active() []Alarm {
	var out []Alarm
	m.each(func(s *slot) bool {
		if s.phase == active {
			out = append(out, s.alarm())
		}
		return true
	})
	slices.SortStableFunc(out, func(a, b Alarm) int {
		if c := cmp.Compare(b.Priority, a.Priority); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}
