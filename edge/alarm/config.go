package alarm

import (
	"fmt"
	"math"
	"time"
)

// Config holds the alarm limits and behaviour; the agent decodes it from the
// "alarms" section of its YAML file, over Defaults.
type Config struct {
	HR        Limits          `yaml:"hr"`
	PulseRate Limits          `yaml:"pr"`
	SpO2      Limits          `yaml:"spo2"`
	Temp      Limits          `yaml:"temp"`
	Asystole  AsystoleAlarm   `yaml:"asystole"`
	Pause     PauseAlarm      `yaml:"pause"`
	Technical TechnicalAlarms `yaml:"technical"`
}

// AsystoleAlarm configures cardiac standstill: no QRS complex for Delay on
// a connected, flat lead (the ECG stage decides; see Manager.Rhythm). It
// is always on and always of high priority (IEC 60601-2-27 asks for both).
type AsystoleAlarm struct {
	// Delay is how long without a QRS complex is asystole, 3..10 s.
	Delay time.Duration `yaml:"delay"`
	// ClearDelay is how long beats must be back before it clears.
	ClearDelay time.Duration `yaml:"clear_delay"`
}

// PauseAlarm configures the pause alarm: an R-R interval (or the time since
// the last QRS complex) longer than Limit.
type PauseAlarm struct {
	Enabled  bool          `yaml:"enabled"`
	Limit    time.Duration `yaml:"limit"` // 1.5..10 s
	Priority Priority      `yaml:"priority"`
	// ClearDelay keeps a pause, a brief event, shown this long after beats
	// are back.
	ClearDelay time.Duration `yaml:"clear_delay"`
}

// Limits configures the physiological alarms of one vital. A limit of 0 is
// off.
type Limits struct {
	Enabled bool `yaml:"enabled"`
	// Low and High raise alarms of Priority; CriticalLow and CriticalHigh,
	// further out, raise alarms of CriticalPriority.
	Low              float64  `yaml:"low"`
	High             float64  `yaml:"high"`
	CriticalLow      float64  `yaml:"critical_low"`
	CriticalHigh     float64  `yaml:"critical_high"`
	Priority         Priority `yaml:"priority"`
	CriticalPriority Priority `yaml:"critical_priority"`
	// OnsetDelay is how long a limit must be crossed before the alarm is
	// raised; ClearDelay how long the value must be back inside by
	// Hysteresis (in the vital's unit) before it clears.
	OnsetDelay time.Duration `yaml:"onset_delay"`
	ClearDelay time.Duration `yaml:"clear_delay"`
	Hysteresis float64       `yaml:"hysteresis"`
	// Latching alarms stay active until acknowledged.
	Latching bool `yaml:"latching"`
	// StaleAfter raises the technical alarm no_data when a vital that had
	// valid values has none for this long; 0 is off.
	StaleAfter time.Duration `yaml:"stale_after"`
}

// Technical configures the technical alarms, one entry per condition.
type TechnicalAlarms struct {
	LeadOff     TechnicalAlarm `yaml:"lead_off"`
	ProbeOff    TechnicalAlarm `yaml:"probe_off"`
	SensorFault TechnicalAlarm `yaml:"sensor_fault"`
	PoorSignal  TechnicalAlarm `yaml:"poor_signal"`
	NoData      TechnicalAlarm `yaml:"no_data"`
	// Noise is "ECG noise / artefact": the ECG quality index is below its
	// threshold, so the heart rate is invalid and the ECG's physiological
	// alarms other than asystole are suspended.
	Noise TechnicalAlarm `yaml:"noise"`
}

// TechnicalAlarm configures one technical condition.
type TechnicalAlarm struct {
	Priority   Priority      `yaml:"priority"`
	OnsetDelay time.Duration `yaml:"onset_delay"`
	ClearDelay time.Duration `yaml:"clear_delay"`
	Latching   bool          `yaml:"latching"`
}

// Defaults returns adult limits (see the package documentation).
func Defaults() Config {
	rate := Limits{
		Enabled: true, Low: 50, High: 120, CriticalLow: 40, CriticalHigh: 150,
		Priority: Medium, CriticalPriority: High,
		OnsetDelay: 5 * time.Second, ClearDelay: 20 * time.Second, Hysteresis: 5,
		StaleAfter: 10 * time.Second,
	}
	return Config{
		HR:        rate,
		PulseRate: rate,
		Asystole:  AsystoleAlarm{Delay: 4 * time.Second, ClearDelay: 2 * time.Second},
		Pause:     PauseAlarm{Enabled: true, Limit: 3 * time.Second, Priority: Medium, ClearDelay: 10 * time.Second},
		SpO2: Limits{
			Enabled: true, Low: 90, CriticalLow: 85,
			Priority: Medium, CriticalPriority: High,
			OnsetDelay: 10 * time.Second, ClearDelay: 5 * time.Second, Hysteresis: 1,
			StaleAfter: 15 * time.Second,
		},
		Temp: Limits{
			Enabled: true, Low: 35, High: 39,
			Priority: Medium, CriticalPriority: High,
			OnsetDelay: 10 * time.Second, ClearDelay: 10 * time.Second, Hysteresis: 0.2,
			StaleAfter: time.Minute,
		},
		Technical: TechnicalAlarms{
			LeadOff:     TechnicalAlarm{Priority: Medium, OnsetDelay: 2 * time.Second, ClearDelay: time.Second},
			ProbeOff:    TechnicalAlarm{Priority: Medium, OnsetDelay: 2 * time.Second, ClearDelay: time.Second},
			SensorFault: TechnicalAlarm{Priority: Medium},
			PoorSignal:  TechnicalAlarm{Priority: Low, OnsetDelay: 5 * time.Second, ClearDelay: 5 * time.Second},
			NoData:      TechnicalAlarm{Priority: Medium},
			Noise:       TechnicalAlarm{Priority: Low, OnsetDelay: 4 * time.Second, ClearDelay: 5 * time.Second},
		},
	}
}

// FieldError is a configuration problem with one key, named as in YAML.
type FieldError struct {
	Key string // e.g. "alarms.hr.high"
	Msg string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

const maxDelay = 5 * time.Minute

// plausible bounds every limit of a vital.
var plausible = map[Vital][2]float64{
	HR: {1, 350}, PulseRate: {1, 350}, SpO2: {1, 100}, Temp: {20, 50},
}

// Validate reports the first problem in c as a *FieldError.
func (c Config) Validate() error {
	for _, v := range []struct {
		name Vital
		l    Limits
	}{{HR, c.HR}, {PulseRate, c.PulseRate}, {SpO2, c.SpO2}, {Temp, c.Temp}} {
		if err := v.l.validate("alarms."+string(v.name), plausible[v.name]); err != nil {
			return err
		}
	}
	for _, t := range []struct {
		name string
		a    TechnicalAlarm
	}{
		{"lead_off", c.Technical.LeadOff}, {"probe_off", c.Technical.ProbeOff},
		{"sensor_fault", c.Technical.SensorFault}, {"poor_signal", c.Technical.PoorSignal},
		{"no_data", c.Technical.NoData}, {"noise", c.Technical.Noise},
	} {
		key := "alarms.technical." + t.name
		switch {
		case t.a.Priority < Low || t.a.Priority > High:
			return &FieldError{key + ".priority", "must be low, medium or high"}
		case t.a.OnsetDelay < 0 || t.a.OnsetDelay > maxDelay:
			return &FieldError{key + ".onset_delay", fmt.Sprintf("must be 0..%v, got %v", maxDelay, t.a.OnsetDelay)}
		case t.a.ClearDelay < 0 || t.a.ClearDelay > maxDelay:
			return &FieldError{key + ".clear_delay", fmt.Sprintf("must be 0..%v, got %v", maxDelay, t.a.ClearDelay)}
		}
	}
	return c.validateRhythm()
}

func (c Config) validateRhythm() error {
	a, p := c.Asystole, c.Pause
	switch {
	case a.Delay < 3*time.Second || a.Delay > 10*time.Second:
		return &FieldError{"alarms.asystole.delay", fmt.Sprintf("must be 3s..10s, got %v", a.Delay)}
	case a.ClearDelay < 0 || a.ClearDelay > time.Minute:
		return &FieldError{"alarms.asystole.clear_delay", fmt.Sprintf("must be 0..1m, got %v", a.ClearDelay)}
	case !p.Enabled:
		return nil
	case p.Limit < 1500*time.Millisecond || p.Limit > 10*time.Second:
		return &FieldError{"alarms.pause.limit", fmt.Sprintf("must be 1.5s..10s, got %v", p.Limit)}
	case p.Priority < Low || p.Priority > High:
		return &FieldError{"alarms.pause.priority", "must be low, medium or high"}
	case p.ClearDelay < 0 || p.ClearDelay > maxDelay:
		return &FieldError{"alarms.pause.clear_delay", fmt.Sprintf("must be 0..%v, got %v", maxDelay, p.ClearDelay)}
	}
	return nil
}

func (l Limits) validate(key string, bounds [2]float64) error {
	bad := func(k, format string, args ...any) error {
		return &FieldError{Key: key + "." + k, Msg: fmt.Sprintf(format, args...)}
	}
	if !l.Enabled {
		return nil
	}
	// Limits in order from the lowest; 0 is off and skipped.
	order := []struct {
		name string
		v    float64
	}{{"critical_low", l.CriticalLow}, {"low", l.Low}, {"high", l.High}, {"critical_high", l.CriticalHigh}}
	prev := -1
	for i, o := range order {
		if o.v == 0 {
			continue
		}
		if math.IsNaN(o.v) || o.v < bounds[0] || o.v > bounds[1] {
			return bad(o.name, "must be %g..%g (or 0 for off), got %g", bounds[0], bounds[1], o.v)
		}
		if prev >= 0 && !(o.v > order[prev].v) {
			return bad(o.name, "must be above %s.%s (%g), got %g", key, order[prev].name, order[prev].v, o.v)
		}
		prev = i
	}
	if prev < 0 {
		return bad("enabled", "is true but every limit is 0 (off)")
	}
	switch {
	case l.Priority < Low || l.Priority > High:
		return bad("priority", "must be low, medium or high")
	case l.CriticalPriority < Low || l.CriticalPriority > High:
		return bad("critical_priority", "must be low, medium or high")
	case l.CriticalPriority < l.Priority:
		return bad("critical_priority", "must not be below %s.priority (%v), got %v", key, l.Priority, l.CriticalPriority)
	case l.OnsetDelay < 0 || l.OnsetDelay > maxDelay:
		return bad("onset_delay", "must be 0..%v, got %v", maxDelay, l.OnsetDelay)
	case l.ClearDelay < 0 || l.ClearDelay > maxDelay:
		return bad("clear_delay", "must be 0..%v, got %v", maxDelay, l.ClearDelay)
	case !(l.Hysteresis >= 0) || math.IsInf(l.Hysteresis, 0):
		return bad("hysteresis", "must be 0 or more, got %g", l.Hysteresis)
	case l.StaleAfter != 0 && (l.StaleAfter < time.Second || l.StaleAfter > maxDelay):
		return bad("stale_after", "must be 0 (off) or 1s..%v, got %v", maxDelay, l.StaleAfter)
	}
	// Clearing needs room inside the limits for the hysteresis margin.
	if l.Low != 0 && l.High != 0 && l.Hysteresis >= (l.High-l.Low)/2 {
		return bad("hysteresis", "must be below half of %s.high - %s.low (%g), got %g", key, key, (l.High-l.Low)/2, l.Hysteresis)
	}
	return nil
}
