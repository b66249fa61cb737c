package sim

import (
	"math"
	"time"
)

// TempOptions configures a body temperature stream in °C.
type TempOptions struct {
	// Rate is the sample rate in Hz, 0.01–100 (0: 1).
	Rate float64
	// DriftC is the standard deviation of the slow physiological drift
	// around the set point, 0–1 °C; DriftTau its correlation time,
	// 1 s to 24 h (0: 10 min). The drift is an Ornstein–Uhlenbeck process.
	DriftC   float64
	DriftTau time.Duration
	// NoiseC is the standard deviation of white measurement noise, 0–0.5 °C.
	NoiseC float64
	// ResolutionC quantises the output, 0–1 °C (0: none; a TMP117 has
	// 0.0078125).
	ResolutionC float64
	// Faults are scheduled faults (Stuck, Dropout); Random adds faults
	// drawn from the seed.
	Faults []Fault
	Random RandomFaults
}

// DefaultTempOptions returns a 1 Hz skin-probe-like body temperature.
func DefaultTempOptions() TempOptions {
	return TempOptions{Rate: 1, DriftC: 0.05, DriftTau: 10 * time.Minute, NoiseC: 0.01, ResolutionC: 0.0078125}
}

var tempFaultKinds = []FaultKind{Stuck, Dropout}

func (o *TempOptions) ensureDefaults() {
	if o.Rate == 0 {
		o.Rate = 1
	}
	if o.DriftTau == 0 {
		o.DriftTau = 10 * time.Minute
	}
}

func (o *TempOptions) validate() error {
	if err := rateInRange("TempOptions.Rate", o.Rate, 0.01, 100); err != nil {
		return err
	}
	if err := inRange("TempOptions.DriftC", o.DriftC, "°C", 0, 1); err != nil {
		return err
	}
	if err := inRange("TempOptions.DriftTau", o.DriftTau.Seconds(), "s", 1, 86400); err != nil {
		return err
	}
	if err := inRange("TempOptions.NoiseC", o.NoiseC, "°C", 0, 0.5); err != nil {
		return err
	}
	if err := inRange("TempOptions.ResolutionC", o.ResolutionC, "°C", 0, 1); err != nil {
		return err
	}
	return validateFaults("TempOptions", o.Faults, &o.Random, tempFaultKinds)
}

// Temp is a stream of body temperature samples in °C: the patient's set
// point plus a slow drift and measurement noise.
type Temp struct {
	o      TempOptions
	dt     float64
	i      int64
	set    cursor
	r      rng
	drift  float64
	decay  float64 // drift's decay per sample
	innov  float64 // drift's innovation std per sample
	faults faults
	hold   hold
}

// Temp returns a new temperature stream of the patient, starting at time 0.
func (p *Patient) Temp(o TempOptions) (*Temp, error) {
	o.ensureDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	o.Faults = append([]Fault(nil), o.Faults...)
	s := &Temp{
		o: o, dt: 1 / o.Rate, set: p.temp.cursor(), r: newRNG(p.opts.Seed, "temp"),
		faults: newFaults(p.opts.Seed, "temp", o.Rate, o.Faults, o.Random, tempFaultKinds),
	}
	// Exact discretisation of the Ornstein–Uhlenbeck process, started in
	// its stationary distribution.
	s.decay = math.Exp(-s.dt / o.DriftTau.Seconds())
	s.innov = o.DriftC * math.Sqrt(1-s.decay*s.decay)
	s.drift = o.DriftC * s.r.norm()
	return s, nil
}

// Read fills dst and valid with the next samples (°C) and returns how
// many it wrote: the shorter of the two lengths. It never allocates.
func (s *Temp) Read(dst []float64, valid []bool) int {
	n := min(len(dst), len(valid))
	for k := range n {
		dst[k], valid[k] = s.sample()
	}
	return n
}

func (s *Temp) sample() (float64, bool) {
	t := float64(s.i) * s.dt
	v := s.set.at(t) + s.drift + s.o.NoiseC*s.r.norm()
	s.drift = s.drift*s.decay + s.innov*s.r.norm()
	if q := s.o.ResolutionC; q != 0 {
		v = math.Round(v/q) * q
	}
	kind, frozen := s.faults.at(s.i)
	s.hold.update(frozen, [2]float64{v})
	ok := true
	switch kind {
	case Dropout:
		v, ok = 0, false
	case Stuck:
		v = s.hold.held[0]
	}
	if ok {
		s.hold.valid([2]float64{v})
	}
	s.i++
	return v, ok
}

// Rate returns the sample rate in Hz.
func (s *Temp) Rate() float64 { return s.o.Rate }

// Pos returns the number of samples read so far: the index of the next.
func (s *Temp) Pos() int64 { return s.i }

// Faults returns the faults (scheduled and random) that start before d.
func (s *Temp) Faults(d time.Duration) []Fault { return s.faults.list(d) }
