package sim

import (
	"math"
	"time"
)

// The pulse is a template in the phase of the cardiac cycle (0 at the
// foot, one cycle per RR interval): a systolic wave with a fast rise and a
// slower fall, and a smaller diastolic wave after the dicrotic notch, each
// a split Gaussian wrapped onto the cycle. Blood absorbs light, so the raw
// counts dip as the pulse arrives: counts = DC·(1 − AC/DC·pulse).

type pulseWave struct {
	c, rise, fall, a float64
}

var pulseWaves = [2]pulseWave{
	{c: 0.18, rise: 0.06, fall: 0.10, a: 1},    // systolic
	{c: 0.45, rise: 0.06, fall: 0.12, a: 0.40}, // diastolic (reflected) wave
}

// pulseShape is the raw template at phase φ in [0, 1).
func pulseShape(phi float64) float64 {
	var s float64
	for _, w := range pulseWaves {
		d := phi - w.c
		if d >= 0.5 {
			d--
		} else if d < -0.5 {
			d++
		}
		sd := w.fall
		if d < 0 {
			sd = w.rise
		}
		s += w.a * math.Exp(-d*d/(2*sd*sd))
	}
	return s
}

// pulseNorm holds the template's range and mean, so that the normalised
// pulse spans exactly 1 from trough to peak and averages 0 over a cycle:
// then peak-to-trough/mean of the counts is the configured AC/DC.
var pulseNorm = func() (n struct{ lo, scale, mean float64 }) {
	const steps = 10000
	lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
	for k := range steps {
		v := pulseShape(float64(k) / steps)
		lo, hi, sum = min(lo, v), max(hi, v), sum+v
	}
	n.lo, n.scale = lo, 1/(hi-lo)
	n.mean = (sum/steps - lo) * n.scale
	return n
}()

// PPG is a stream of red and IR photoplethysmogram samples in raw counts.
// Its pulses follow the patient's beats, delayed by the pulse transit
// time; the red/IR ratio of ratios follows the patient's SpO2 through the
// calibration. Like the ECG, sample i depends only on options and i.
type PPG struct {
	p    *Patient
	o    PPGOptions
	dt   float64
	ptt  float64
	i    int64
	pi   float64 // AC/DC of IR as a fraction
	resp float64 // respiration frequency, Hz

	beats  beatIter
	spo2   cursor
	noise  rng
	art    artefact
	rPhase float64

	faults   faults
	probeOff bool
	hold     hold
}

// PPG returns a new red/IR PPG stream of the patient, starting at time 0.
func (p *Patient) PPG(o PPGOptions) (*PPG, error) {
	o.ensureDefaults()
	if err := o.validate(p); err != nil {
		return nil, err
	}
	o.Faults = append([]Fault(nil), o.Faults...)
	s := &PPG{
		p: p, o: o, dt: 1 / o.Rate, ptt: o.PTT.Seconds(), pi: o.PerfusionIndex / 100,
		resp: p.opts.RespRate / 60, beats: p.beats(), spo2: p.spo2.cursor(),
		noise:  newRNG(p.opts.Seed, "ppg/noise"),
		art:    newArtefact(newRNG(p.opts.Seed, "ppg/artifact"), o.ArtifactsPerMin, o.ArtifactFrac, o.Rate),
		faults: newFaults(p.opts.Seed, "ppg", o.Rate, o.Faults, o.Random, ppgFaultKinds),
	}
	ph := newRNG(p.opts.Seed, "ppg/phase")
	s.rPhase = twoPi * ph.float()
	return s, nil
}

// Read fills red, ir and valid with the next samples and returns how many
// it wrote: the shortest of the three lengths. It never allocates.
func (s *PPG) Read(red, ir []float64, valid []bool) int {
	n := min(len(red), len(ir), len(valid))
	for k := range n {
		red[k], ir[k], valid[k] = s.sample()
	}
	return n
}

func (s *PPG) sample() (red, ir float64, ok bool) {
	t := float64(s.i) * s.dt
	tb := t - s.ptt
	s.beats.seek(tb)
	phi := (tb - s.beats.prev) / (s.beats.next - s.beats.prev)
	pulse := s.pi * ((pulseShape(phi)-pulseNorm.lo)*pulseNorm.scale - pulseNorm.mean)
	r := s.o.Calibration.Ratio(s.spo2.at(t))

	mod := 1 + s.art.next()
	if s.o.RespModFrac != 0 {
		mod += s.o.RespModFrac * math.Sin(twoPi*s.resp*t+s.rPhase)
	}
	var nr, ni float64
	if s.o.NoiseCounts != 0 {
		nr, ni = s.o.NoiseCounts*s.noise.norm(), s.o.NoiseCounts*s.noise.norm()
	}
	red = s.o.DCRed*mod*(1-r*pulse) + nr
	ir = s.o.DCIR*mod*(1-pulse) + ni

	red = min(max(red, 0), s.o.ADCMax)
	ir = min(max(ir, 0), s.o.ADCMax)

	kind, frozen := s.faults.at(s.i)
	s.hold.update(frozen, [2]float64{red, ir})
	ok = true
	switch kind {
	case LeadOff:
		red, ir, ok = s.o.AmbientCounts+nr, s.o.AmbientCounts+ni, false
		red = min(max(red, 0), s.o.ADCMax)
		ir = min(max(ir, 0), s.o.ADCMax)
	case Dropout:
		red, ir, ok = 0, 0, false
	case Stuck:
		red, ir = s.hold.held[0], s.hold.held[1]
	}
	if ok {
		s.hold.valid([2]float64{red, ir})
	}
	s.probeOff = kind == LeadOff
	s.i++
	return red, ir, ok
}

// ProbeOff reports whether the last sample read was taken with the probe
// off the finger (a LeadOff fault).
func (s *PPG) ProbeOff() bool { return s.probeOff }

// Rate returns the sample rate in Hz.
func (s *PPG) Rate() float64 { return s.o.Rate }

// Pos returns the number of samples read so far: the index of the next.
func (s *PPG) Pos() int64 { return s.i }

// Faults returns the faults (scheduled and random) that start before d.
func (s *PPG) Faults(d time.Duration) []Fault { return s.faults.list(d) }
