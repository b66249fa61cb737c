package alarm

import (
	"fmt"
	"time"
)

// Vital names a physiological value the manager watches.
type Vital string

// The vitals with limits in Config.
const (
	HR        Vital = "hr"   // heart rate from the ECG, /min
	PulseRate Vital = "pr"   // pulse rate from the PPG, /min
	SpO2      Vital = "spo2" // %
	Temp      Vital = "temp" // °C
)

// Priority is an IEC 60601-1-8 alarm priority. The zero value is not a
// priority.
type Priority int

// Priorities, lowest first so that they compare.
const (
	Low Priority = iota + 1
	Medium
	High
)

var priorityNames = [...]string{Low: "low", Medium: "medium", High: "high"}

func (p Priority) String() string {
	if p >= Low && p <= High {
		return priorityNames[p]
	}
	return fmt.Sprintf("Priority(%d)", int(p))
}

// MarshalText writes low, medium or high.
func (p Priority) MarshalText() ([]byte, error) {
	if p < Low || p > High {
		return nil, fmt.Errorf("alarm: invalid priority %d", int(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText reads low, medium or high (as in the YAML configuration).
func (p *Priority) UnmarshalText(b []byte) error {
	for q := Low; q <= High; q++ {
		if string(b) == priorityNames[q] {
			*p = q
			return nil
		}
	}
	return fmt.Errorf("want low, medium or high, got %q", b)
}

// Kind separates physiological alarms (a vital outside its limits) from
// technical ones (the equipment cannot measure).
type Kind int

// Kinds.
const (
	Physiological Kind = iota + 1
	Technical
)

func (k Kind) String() string {
	switch k {
	case Physiological:
		return "physiological"
	case Technical:
		return "technical"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// MarshalText writes the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Condition says what is wrong.
type Condition string

// Physiological conditions.
const (
	BelowLow          Condition = "low"
	AboveHigh         Condition = "high"
	BelowCriticalLow  Condition = "critical_low"
	AboveCriticalHigh Condition = "critical_high"
)

// Rhythm conditions of the ECG (physiological, vital HR; see
// Manager.Rhythm).
const (
	// Asystole is cardiac standstill: no QRS complex for the configured
	// delay on a connected, flat lead. Always high priority.
	Asystole Condition = "asystole"
	// Pause is an R-R interval longer than the configured limit.
	Pause Condition = "pause"
)

// Technical conditions.
const (
	LeadOff     Condition = "lead_off"
	ProbeOff    Condition = "probe_off"
	SensorFault Condition = "sensor_fault"
	PoorSignal  Condition = "poor_signal"
	NoData      Condition = "no_data"
	// Noise is "ECG noise / artefact": the signal quality is too low to
	// count beats.
	Noise Condition = "noise"
)

// Text is how the condition reads on a display or in a log.
func (c Condition) Text() string {
	switch c {
	case BelowLow:
		return "low"
	case AboveHigh:
		return "high"
	case BelowCriticalLow:
		return "critically low"
	case AboveCriticalHigh:
		return "critically high"
	case Asystole:
		return "asystole"
	case Pause:
		return "pause"
	case LeadOff:
		return "lead off"
	case ProbeOff:
		return "probe off"
	case SensorFault:
		return "sensor fault"
	case PoorSignal:
		return "poor signal"
	case NoData:
		return "no data"
	case Noise:
		return "ECG noise / artefact"
	}
	return string(c)
}

// Observation is what the caller knows about a condition at one instant.
type Observation int

// Observations.
const (
	Absent  Observation = iota // the condition does not hold
	Present                    // it holds
	Unknown                    // it cannot be judged (no signal, suspended)
)

// Event is what happened to an alarm.
type Event int

// Events.
const (
	Raised Event = iota + 1
	Cleared
	Acknowledged
)

func (e Event) String() string {
	switch e {
	case Raised:
		return "raised"
	case Cleared:
		return "cleared"
	case Acknowledged:
		return "acknowledged"
	}
	return fmt.Sprintf("Event(%d)", int(e))
}

// MarshalText writes the event's name.
func (e Event) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// ID identifies one alarm from raised to cleared.
type ID uint64

// Transition is one change of one alarm.
type Transition struct {
	Event     Event
	ID        ID
	Kind      Kind
	Vital     Vital  // physiological alarms, and no_data of a vital
	Source    string // technical alarms: the sensor or stream
	Condition Condition
	Priority  Priority
	Value     float64 // physiological: the latest value (asystole, pause: seconds without a QRS); technical: 0
	Limit     float64 // physiological: the limit crossed (asystole, pause: seconds); technical: 0
	Time      time.Time
}

// Alarm is an active alarm.
type Alarm struct {
	ID        ID
	Kind      Kind
	Vital     Vital
	Source    string
	Condition Condition
	Priority  Priority
	Value     float64 // latest valid value (physiological)
	Limit     float64
	Since     time.Time // when it was raised
	// Present is false for a latched alarm whose condition has ended.
	Present      bool
	Acknowledged bool
}
