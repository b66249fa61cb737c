package ppg

import (
	"fmt"
	"math"
)

// Config sets up a Processor. The zero value is not usable: start from
// Defaults and change what differs.
type Config struct {
	// Rate is the sample rate of both channels in Hz, 25 to 400.
	Rate float64 `yaml:"rate"`
	// Inverted is true when the counts fall as each pulse arrives: the
	// sensor reports received light and blood absorbs it (MAX3010x and
	// other raw photodiode front ends). Pulses are then detected on the
	// negated signal, so that the detector finds the sharp systolic peak
	// rather than the pulse foot or the dicrotic notch. Monitors that
	// export a plethysmogram (as the BIDMC recordings) have already
	// turned it upright: false.
	Inverted bool `yaml:"inverted"`
	// CalA and CalB are the calibration line SpO2 = CalA − CalB·R.
	CalA float64 `yaml:"cal_a"`
	CalB float64 `yaml:"cal_b"`
	// RMin and RMax bound the plausible ratio of ratios; an averaged R
	// outside them makes SpO2 invalid.
	RMin float64 `yaml:"r_min"`
	RMax float64 `yaml:"r_max"`
	// Average is how many recent pulses are averaged (1 to 16); MinPulses
	// of them are needed before rate and SpO2 are reported.
	Average   int `yaml:"average"`
	MinPulses int `yaml:"min_pulses"`
	// LowPerfusionPI is the perfusion index (in %) below which the
	// LowPerfusion flag is set.
	LowPerfusionPI float64 `yaml:"low_perfusion_pi"`
	// MinPI is the noise floor: a peak smaller than this perfusion index
	// (in %, peak to peak) is not a pulse. Set it above the sensor's noise
	// (about 6 standard deviations of the raw noise, relative to DC).
	MinPI float64 `yaml:"min_pi"`
	// ProbeOffDC and SaturationDC bound the raw counts of a probe on a
	// finger; outside them the probe is off or the ADC saturated.
	ProbeOffDC   float64 `yaml:"probe_off_dc"`
	SaturationDC float64 `yaml:"saturation_dc"`
	// MotionDCJump is the relative change of the IR DC level between two
	// pulses that counts as motion (0.1 = 10 %).
	MotionDCJump float64 `yaml:"motion_dc_jump"`
	// MotionIrregularity is the relative deviation of one pulse's interval
	// from the mean interval that counts as motion (0.4 = 40 %). A pulse
	// amplitude more than 1+MotionIrregularity·2.5 times (or less than the
	// inverse of that) the mean amplitude also counts.
	MotionIrregularity float64 `yaml:"motion_irregularity"`
}

const maxAverage = 16

// Defaults returns the configuration for an 18-bit MAX3010x-class sensor at
// 100 Hz with the development calibration SpO2 = 110 − 25·R (see the
// package documentation: real sensors need their own).
func Defaults() Config {
	return Config{
		Rate:               100,
		Inverted:           true,
		CalA:               110,
		CalB:               25,
		RMin:               0.3,
		RMax:               3.0,
		Average:            8,
		MinPulses:          3,
		LowPerfusionPI:     0.3,
		MinPI:              0.05,
		ProbeOffDC:         10000,
		SaturationDC:       0.99 * (1<<18 - 1),
		MotionDCJump:       0.1,
		MotionIrregularity: 0.4,
	}
}

// FieldError is a configuration problem with one key, named as in YAML.
type FieldError struct {
	Key string // e.g. "ppg.rate"
	Msg string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Validate reports the first problem in c as a *FieldError.
func (c Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return &FieldError{Key: "ppg." + key, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case !(c.Rate >= 25 && c.Rate <= 400):
		return bad("rate", "must be 25..400 Hz, got %g", c.Rate)
	case !finite(c.CalA):
		return bad("cal_a", "must be a finite number, got %g", c.CalA)
	case !(c.CalB > 0) || !finite(c.CalB):
		return bad("cal_b", "must be above 0 (SpO2 falls as R rises), got %g", c.CalB)
	case !(c.RMin > 0):
		return bad("r_min", "must be above 0, got %g", c.RMin)
	case !(c.RMax > c.RMin) || !finite(c.RMax):
		return bad("r_max", "must be above ppg.r_min (%g), got %g", c.RMin, c.RMax)
	case c.Average < 1 || c.Average > maxAverage:
		return bad("average", "must be 1..%d pulses, got %d", maxAverage, c.Average)
	case c.MinPulses < 1 || c.MinPulses > c.Average:
		return bad("min_pulses", "must be 1..ppg.average (%d), got %d", c.Average, c.MinPulses)
	case !(c.LowPerfusionPI >= 0 && c.LowPerfusionPI <= 20):
		return bad("low_perfusion_pi", "must be 0..20 %%, got %g", c.LowPerfusionPI)
	case !(c.MinPI >= 0 && c.MinPI <= 5):
		return bad("min_pi", "must be 0..5 %%, got %g", c.MinPI)
	case !(c.ProbeOffDC >= 0) || !finite(c.ProbeOffDC):
		return bad("probe_off_dc", "must be 0 or more counts, got %g", c.ProbeOffDC)
	case !(c.SaturationDC > c.ProbeOffDC):
		return bad("saturation_dc", "must be above ppg.probe_off_dc (%g), got %g", c.ProbeOffDC, c.SaturationDC)
	case !(c.MotionDCJump > 0 && c.MotionDCJump <= 1):
		return bad("motion_dc_jump", "must be above 0 and at most 1, got %g", c.MotionDCJump)
	case !(c.MotionIrregularity > 0 && c.MotionIrregularity <= 1):
		return bad("motion_irregularity", "must be above 0 and at most 1, got %g", c.MotionIrregularity)
	}
	return nil
}
