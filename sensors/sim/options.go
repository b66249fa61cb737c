package sim

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrOption is wrapped by every error about an option out of range, so
// callers can tell a configuration problem from anything else.
var ErrOption = errors.New("invalid option")

// PatientOptions describes the simulated patient. Zero values of fields
// where zero makes no physiological sense (HeartRate, SpO2, TempC,
// RespRate, LFHFRatio) mean "default"; see DefaultPatientOptions.
type PatientOptions struct {
	// Seed selects the patient: every random choice (beat phase, heart
	// rate variability, noise of each stream) is derived from it.
	Seed int64
	// HeartRate is the mean heart rate, beats per minute, 20–300.
	HeartRate float64
	// HRVStd is the standard deviation of the RR intervals in seconds at
	// the baseline HeartRate, 0–0.5 (0: a perfectly regular rhythm). It is
	// scaled with the mean RR when the heart rate changes.
	HRVStd float64
	// SpO2 is the functional oxygen saturation in percent, 50–100.
	SpO2 float64
	// TempC is the body temperature in °C, 25–45.
	TempC float64
	// RespRate is the respiration rate in breaths per minute, 4–60. It
	// sets the high-frequency (respiratory sinus arrhythmia) peak of the
	// RR spectrum and the default baseline wander frequency.
	RespRate float64
	// LFHFRatio is the ratio of low- to high-frequency power of the RR
	// spectrum, 0.1–10 (default 0.5, as in McSharry et al.).
	LFHFRatio float64
	// Changes schedule changes of the set points (HR, SpO2, temperature)
	// over time, sorted by At.
	Changes []Change
}

// Change moves one or more set points at a given time. A zero field leaves
// that set point unchanged. The new value is reached linearly over Ramp
// (0: a step at At).
type Change struct {
	At        time.Duration
	Ramp      time.Duration
	HeartRate float64 // bpm
	SpO2      float64 // %
	TempC     float64 // °C
}

// Default patient values, used where PatientOptions leaves a field zero.
const (
	DefaultHeartRate = 72.0
	DefaultSpO2      = 97.0
	DefaultTempC     = 36.8
	DefaultRespRate  = 15.0
	DefaultLFHFRatio = 0.5
)

// maxChanges bounds the schedule (and the per-sample cost of walking it).
const maxChanges = 10000

// DefaultPatientOptions returns a healthy adult at rest with realistic
// heart rate variability; it matches config.Default's sim section.
func DefaultPatientOptions() PatientOptions {
	return PatientOptions{
		Seed:      1,
		HeartRate: DefaultHeartRate,
		HRVStd:    0.05,
		SpO2:      DefaultSpO2,
		TempC:     DefaultTempC,
		RespRate:  DefaultRespRate,
		LFHFRatio: DefaultLFHFRatio,
	}
}

func (o *PatientOptions) ensureDefaults() {
	if o.HeartRate == 0 {
		o.HeartRate = DefaultHeartRate
	}
	if o.SpO2 == 0 {
		o.SpO2 = DefaultSpO2
	}
	if o.TempC == 0 {
		o.TempC = DefaultTempC
	}
	if o.RespRate == 0 {
		o.RespRate = DefaultRespRate
	}
	if o.LFHFRatio == 0 {
		o.LFHFRatio = DefaultLFHFRatio
	}
}

func (o *PatientOptions) validate() error {
	if err := inRange("PatientOptions.HeartRate", o.HeartRate, "bpm", 20, 300); err != nil {
		return err
	}
	if err := inRange("PatientOptions.HRVStd", o.HRVStd, "s", 0, 0.5); err != nil {
		return err
	}
	if err := inRange("PatientOptions.SpO2", o.SpO2, "%", 50, 100); err != nil {
		return err
	}
	if err := inRange("PatientOptions.TempC", o.TempC, "°C", 25, 45); err != nil {
		return err
	}
	if err := inRange("PatientOptions.RespRate", o.RespRate, "/min", 4, 60); err != nil {
		return err
	}
	if err := inRange("PatientOptions.LFHFRatio", o.LFHFRatio, "", 0.1, 10); err != nil {
		return err
	}
	if len(o.Changes) > maxChanges {
		return fmt.Errorf("sim: PatientOptions.Changes has %d entries, at most %d allowed: %w", len(o.Changes), maxChanges, ErrOption)
	}
	var last time.Duration
	for i, c := range o.Changes {
		name := fmt.Sprintf("PatientOptions.Changes[%d]", i)
		if c.At < last {
			return fmt.Errorf("sim: %s.At = %v is before the previous change (%v); sort Changes by At: %w", name, c.At, last, ErrOption)
		}
		last = c.At
		if c.Ramp < 0 {
			return fmt.Errorf("sim: %s.Ramp = %v is negative: %w", name, c.Ramp, ErrOption)
		}
		if c.HeartRate == 0 && c.SpO2 == 0 && c.TempC == 0 {
			return fmt.Errorf("sim: %s changes nothing (HeartRate, SpO2 and TempC all zero): %w", name, ErrOption)
		}
		if c.HeartRate != 0 {
			if err := inRange(name+".HeartRate", c.HeartRate, "bpm", 20, 300); err != nil {
				return err
			}
		}
		if c.SpO2 != 0 {
			if err := inRange(name+".SpO2", c.SpO2, "%", 50, 100); err != nil {
				return err
			}
		}
		if c.TempC != 0 {
			if err := inRange(name+".TempC", c.TempC, "°C", 25, 45); err != nil {
				return err
			}
		}
	}
	return nil
}

// inRange refuses v outside [lo, hi], NaN included.
func inRange(name string, v float64, unit string, lo, hi float64) error {
	if v >= lo && v <= hi {
		return nil
	}
	if unit != "" {
		unit = " " + unit
	}
	return fmt.Errorf("sim: %s = %g%s, allowed %g to %g%s: %w", name, v, unit, lo, hi, unit, ErrOption)
}

// rateInRange refuses a sample rate outside [lo, hi] Hz.
func rateInRange(name string, v, lo, hi float64) error {
	if v >= lo && v <= hi && !math.IsInf(v, 0) {
		return nil
	}
	return fmt.Errorf("sim: %s = %g Hz, allowed %g to %g Hz: %w", name, v, lo, hi, ErrOption)
}

// inRangeSet refuses v that is not one of a few allowed values.
func inRangeSet(name string, v float64, unit, allowed string) error {
	return fmt.Errorf("sim: %s = %g %s, allowed %s: %w", name, v, unit, allowed, ErrOption)
}
