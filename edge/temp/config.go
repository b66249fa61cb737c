package temp

import (
	"fmt"
	"math"
	"time"
)

// Config sets up a Filter; start from Defaults.
type Config struct {
	Min float64 `yaml:"min"` // °C
	Max float64 `yaml:"max"` // °C
	// MaxRate is the fastest plausible change, °C per minute.
	MaxRate float64 `yaml:"max_rate"`
	// Jitter is the change between two readings (°C) always allowed on top
	// of MaxRate, for sensor noise at short intervals.
	Jitter float64 `yaml:"jitter"`
	// Rejoin readings in a row that agree with each other make a step
	// larger than MaxRate accepted.
	Rejoin int `yaml:"rejoin"`
	// Median is the median window in readings (odd, 1 to 15; 1 is off).
	Median int `yaml:"median"`
	// TimeConstant of the exponential average; 0 is off.
	TimeConstant time.Duration `yaml:"time_constant"`
	// StuckAfter is how long identical readings mean a sensor fault;
	// StuckTolerance how far apart (°C) readings still count as identical.
	StuckAfter     time.Duration `yaml:"stuck_after"`
	StuckTolerance float64       `yaml:"stuck_tolerance"`
}

const maxMedian = 15

// Defaults returns the configuration for a body-temperature probe read
// about once a second.
func Defaults() Config {
	return Config{
		Min: 25, Max: 45, MaxRate: 6, Jitter: 0.2, Rejoin: 3, Median: 5,
		TimeConstant: 10 * time.Second, StuckAfter: 10 * time.Minute,
	}
}

// FieldError is a configuration problem with one key, named as in YAML.
type FieldError struct {
	Key string // e.g. "temp.max"
	Msg string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

// Validate reports the first problem in c as a *FieldError.
func (c Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return &FieldError{Key: "temp." + key, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case !(c.Min >= 0 && c.Min <= 40):
		return bad("min", "must be 0..40 °C, got %g", c.Min)
	case !(c.Max > c.Min && c.Max <= 50):
		return bad("max", "must be above temp.min (%g) and at most 50 °C, got %g", c.Min, c.Max)
	case !(c.MaxRate > 0) || math.IsInf(c.MaxRate, 0):
		return bad("max_rate", "must be above 0 °C/min, got %g", c.MaxRate)
	case !(c.Jitter >= 0 && c.Jitter <= 2):
		return bad("jitter", "must be 0..2 °C, got %g", c.Jitter)
	case c.Rejoin < 1 || c.Rejoin > 60:
		return bad("rejoin", "must be 1..60 readings, got %d", c.Rejoin)
	case c.Median < 1 || c.Median > maxMedian || c.Median%2 == 0:
		return bad("median", "must be odd, 1..%d, got %d", maxMedian, c.Median)
	case c.TimeConstant < 0 || c.TimeConstant > 10*time.Minute:
		return bad("time_constant", "must be 0..10m, got %v", c.TimeConstant)
	case c.StuckAfter < time.Minute || c.StuckAfter > 24*time.Hour:
		return bad("stuck_after", "must be 1m..24h, got %v", c.StuckAfter)
	case !(c.StuckTolerance >= 0 && c.StuckTolerance < 0.5):
		return bad("stuck_tolerance", "must be 0..0.5 °C, got %g", c.StuckTolerance)
	}
	return nil
}
