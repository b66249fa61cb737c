package temp

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Fault says why a reading was not used; several may be set.
type Fault uint8

// Faults.
const (
	Invalid     Fault = 1 << iota // not a number, marked invalid, or out of time order
	OutOfRange                    // outside Config.Min..Config.Max
	RateLimited                   // changed faster than Config.MaxRate
	Stuck                         // identical readings for Config.StuckAfter
)

func (f Fault) String() string {
	if f == 0 {
		return "ok"
	}
	var parts []string
	for _, n := range []struct {
		f    Fault
		name string
	}{{Invalid, "invalid"}, {OutOfRange, "out_of_range"}, {RateLimited, "rate_limited"}, {Stuck, "stuck"}} {
		if f&n.f != 0 {
			parts = append(parts, n.name)
		}
	}
	return strings.Join(parts, "|")
}

// Reading is the result of one reading.
type Reading struct {
	Celsius float64 // smoothed; meaningful when Valid
	Raw     float64 // the reading as given
	// Valid is true when this reading was accepted and Celsius may be
	// shown and alarmed on.
	Valid bool
	Fault Fault
}

// Filter holds the state of one temperature stream; not safe for
// concurrent use.
type Filter struct {
	cfg  Config
	last time.Time // previous reading, any

	accepted   bool // there is an accepted reading
	lastOK     float64
	lastOKTime time.Time

	// Rejected readings that may be a real step.
	stepN    int
	stepLast float64
	stepTime time.Time

	// Stuck detection over raw readings.
	runValue float64
	runStart time.Time
	runOK    bool

	win     [maxMedian]float64
	winN    int
	winAt   int
	scratch [maxMedian]float64
	ema     float64
}

// New returns a Filter for cfg, or an error naming the bad key.
func New(cfg Config) (*Filter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("temp: %w", err)
	}
	return &Filter{cfg: cfg}, nil
}

// Update processes one reading in °C taken at now.
func (f *Filter) Update(now time.Time, celsius float64, valid bool) Reading {
	r := Reading{Raw: celsius}
	if !valid || math.IsNaN(celsius) || math.IsInf(celsius, 0) || (!f.last.IsZero() && !now.After(f.last)) {
		r.Fault = Invalid
		return r
	}
	f.last = now
	if celsius < f.cfg.Min || celsius > f.cfg.Max {
		r.Fault |= OutOfRange
	}
	if f.stuck(now, celsius) {
		r.Fault |= Stuck
	}
	if r.Fault != 0 {
		return r
	}
	if f.accepted && now.Sub(f.lastOKTime) > 5*f.cfg.TimeConstant+time.Minute {
		f.restart() // a long gap: start afresh
	}
	if f.accepted && !f.plausibleStep(f.lastOK, f.lastOKTime, celsius, now) {
		// A spike, or the first readings of a real step.
		if f.stepN > 0 && f.plausibleStep(f.stepLast, f.stepTime, celsius, now) {
			f.stepN++
		} else {
			f.stepN = 1
		}
		f.stepLast, f.stepTime = celsius, now
		if f.stepN < f.cfg.Rejoin {
			r.Fault = RateLimited
			return r
		}
		f.restart()
	}
	f.stepN = 0
	f.accept(now, celsius)
	r.Celsius, r.Valid = f.ema, true
	return r
}

func (f *Filter) plausibleStep(from float64, at time.Time, to float64, now time.Time) bool {
	return math.Abs(to-from) <= f.cfg.Jitter+f.cfg.MaxRate*now.Sub(at).Minutes()
}

// stuck tracks runs of identical readings.
func (f *Filter) stuck(now time.Time, v float64) bool {
	if !f.runOK || math.Abs(v-f.runValue) > f.cfg.StuckTolerance {
		f.runValue, f.runStart, f.runOK = v, now, true
		return false
	}
	return now.Sub(f.runStart) >= f.cfg.StuckAfter
}

func (f *Filter) restart() {
	f.accepted, f.winN, f.winAt, f.stepN = false, 0, 0, 0
}

func (f *Filter) accept(now time.Time, v float64) {
	k := f.cfg.Median
	f.win[f.winAt] = v
	f.winAt = (f.winAt + 1) % k
	if f.winN < k {
		f.winN++
	}
	m := median(f.scratch[:copy(f.scratch[:], f.win[:f.winN])])
	switch {
	case !f.accepted || f.cfg.TimeConstant == 0:
		f.ema = m
	default:
		a := 1 - math.Exp(-now.Sub(f.lastOKTime).Seconds()/f.cfg.TimeConstant.Seconds())
		f.ema += a * (m - f.ema)
	}
	f.accepted, f.lastOK, f.lastOKTime = true, v, now
}

// median sorts v in place and returns its middle value (v has odd or any
// length; for even lengths the mean of the two middle values).
func median(v []float64) float64 {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
