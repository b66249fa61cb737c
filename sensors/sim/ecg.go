package sim

import (
	"math"
	"time"
)

// The ECG is the dynamical model of McSharry et al. (2003): a point moves
// round the unit circle in the (x, y) plane at angular speed ω = 2π/RR,
// and z, the ECG, is pushed up or down by five Gaussian events P, Q, R, S
// and T at fixed angles θi:
//
//	dz/dt = −ω Σ αi (Δθi/bi²) exp(−Δθi²/(2bi²)) − λ z,  Δθi = (θ − θi) mod 2π
//
// The point starts on the attracting circle and stays there, so x and y
// reduce to the angle θ; we take θ from the patient's beat schedule
// (θ = 0 exactly at each R peak, advancing 2π per RR interval) instead of
// integrating it, which makes the R-peak times exact ground truth. Two
// departures from the paper, both so the morphology does not depend on the
// heart rate: the sum is multiplied by ω (so each event's height is αi
// whatever the speed), and the event amplitudes are αi = ai·bi² with the
// paper's ai and bi at 60 bpm. The −λz term (λ = 1/s as in the paper)
// acts as a 0.16 Hz high-pass, as the AC coupling of a monitor does: the
// signal averages 0, so the isoelectric line sits a little below 0 mV
// (about −0.15 mV at the default amplitude) and AmplitudeMV is measured
// from it.

// ecgWave is one Gaussian event: its angle and width at 60 bpm, its
// amplitude, and how its angle scales with the mean heart rate, as
// (HR/60)^exp. All widths scale with sqrt(HR/60), the factor of the paper;
// the angles of Q and S scale with that factor too, those of P and T with
// its square root (our choice, so that QT shortens roughly as Bazett's
// sqrt(RR)). The mean heart rate is the scheduled one, without the
// beat-to-beat variability, so the morphology changes only with Changes.
type ecgWave struct {
	theta, a, b, exp float64
}

// Table 1 of McSharry et al. 2003.
var ecgWaves = [5]ecgWave{
	{theta: -math.Pi / 3, a: 1.2, b: 0.25, exp: 0.25}, // P
	{theta: -math.Pi / 12, a: -5, b: 0.1, exp: 0.5},   // Q
	{theta: 0, a: 30, b: 0.1, exp: 0},                 // R
	{theta: math.Pi / 12, a: -7.5, b: 0.1, exp: 0.5},  // S
	{theta: math.Pi / 2, a: 0.75, b: 0.4, exp: 0.25},  // T
}

const (
	ecgLambda  = 1.0   // 1/s, pull of z towards the baseline
	ecgMaxStep = 0.002 // s, longest integration step (within 0.001 mV of 0.1 ms steps)
	gaussCut   = 5.0   // widths beyond which an event adds < 4e-6 of its height
	twoPi      = 2 * math.Pi
)

// morph is the set of event parameters at one mean heart rate.
type morph struct {
	hr                float64
	theta, invb2, cut [5]float64
	alpha             [5]float64
}

func newMorph(hr float64) morph {
	m := morph{hr: hr}
	s := hr / 60
	w := math.Sqrt(s)
	for i, e := range ecgWaves {
		b := e.b * w
		m.theta[i] = e.theta * math.Pow(s, e.exp)
		m.invb2[i] = 1 / (b * b)
		m.cut[i] = gaussCut * b
		m.alpha[i] = e.a * e.b * e.b
	}
	return m
}

// wrap maps d into [−π, π).
func wrap(d float64) float64 {
	for d >= math.Pi {
		d -= twoPi
	}
	for d < -math.Pi {
		d += twoPi
	}
	return d
}

// level is the closed-form z at angle θ (the integral of the events).
func (m *morph) level(theta float64) float64 {
	var z float64
	for i := range m.theta {
		d := wrap(theta - m.theta[i])
		z += m.alpha[i] * math.Exp(-0.5*d*d*m.invb2[i])
	}
	return z
}

// slope is dz/dθ of the events.
func (m *morph) slope(theta float64) float64 {
	var s float64
	for i := range m.theta {
		d := wrap(theta - m.theta[i])
		if d > m.cut[i] || d < -m.cut[i] {
			continue
		}
		s -= m.alpha[i] * d * m.invb2[i] * math.Exp(-0.5*d*d*m.invb2[i])
	}
	return s
}

// mean is the average of level over one cycle.
func (m *morph) mean() float64 {
	const n = 4096
	var s float64
	for k := range n {
		s += m.level(twoPi * float64(k) / n)
	}
	return s / n
}

// ECG is a stream of simulated ECG samples in mV. Sample i is the signal at
// i/Rate seconds after the patient's time 0; the samples depend only on the
// options and on i, never on the wall clock or on how reads are split.
type ECG struct {
	p     *Patient
	o     ECGOptions
	dt, h float64
	nsub  int
	i     int64

	beats  beatIter
	hrCur  cursor // mean heart rate at the start of the current interval
	morphT float64
	m      morph
	z      float64 // model units; mV = gain·z
	gNow   float64 // g at the time the state z is at
	gain   float64

	noise  rng
	art    artefact
	wPhase float64
	mPhase float64

	faults  faults
	leadOff bool
	hold    hold
}

// ECG returns a new ECG stream of the patient, starting at time 0.
func (p *Patient) ECG(o ECGOptions) (*ECG, error) {
	o.ensureDefaults(p)
	if err := o.validate(); err != nil {
		return nil, err
	}
	e := &ECG{p: p, o: o, dt: 1 / o.Rate, beats: p.beats(), hrCur: p.hr.cursor(), morphT: math.NaN()}
	e.nsub = int(math.Ceil(e.dt/ecgMaxStep - 1e-9))
	e.h = e.dt / float64(e.nsub)
	e.o.Faults = append([]Fault(nil), o.Faults...)
	e.faults = newFaults(p.opts.Seed, "ecg", o.Rate, o.Faults, o.Random, ecgFaultKinds)

	ph := newRNG(p.opts.Seed, "ecg/phase")
	e.wPhase = twoPi * ph.float()
	e.mPhase = twoPi * ph.float()
	e.noise = newRNG(p.opts.Seed, "ecg/noise")
	e.art = newArtefact(newRNG(p.opts.Seed, "ecg/artifact"), o.ArtifactsPerMin, o.ArtifactMV, o.Rate)

	// Start on the steady state: the closed form less its mean (what the
	// high-pass term leaves), so there is no start-up transient.
	theta := e.angle(0)
	e.gain = o.AmplitudeMV / e.m.level(0)
	e.z = e.m.level(theta) - e.m.mean()
	e.gNow = e.g(0)
	return e, nil
}

// angle returns θ at t and makes sure the morphology is current.
func (e *ECG) angle(t float64) float64 {
	e.beats.seek(t)
	if e.beats.prev != e.morphT {
		e.morphT = e.beats.prev
		if hr := e.hrCur.at(max(e.beats.prev, 0)); hr != e.m.hr {
			e.m = newMorph(hr)
		}
	}
	return twoPi * (t - e.beats.prev) / (e.beats.next - e.beats.prev)
}

// g is the event drive ω·dz/dθ at time t.
func (e *ECG) g(t float64) float64 {
	theta := e.angle(t)
	omega := twoPi / (e.beats.next - e.beats.prev)
	return omega * e.m.slope(theta)
}

// step advances z from sample i to sample i+1 (classic Runge–Kutta; g does
// not depend on z, so the midpoint drive is shared by k2 and k3).
func (e *ECG) step() {
	t0 := float64(e.i) * e.dt
	for j := range e.nsub {
		t := t0 + float64(j)*e.h
		gm := e.g(t + e.h/2)
		g1 := e.g(t + e.h)
		k1 := e.gNow - ecgLambda*e.z
		k2 := gm - ecgLambda*(e.z+e.h/2*k1)
		k3 := gm - ecgLambda*(e.z+e.h/2*k2)
		k4 := g1 - ecgLambda*(e.z+e.h*k3)
		e.z += e.h / 6 * (k1 + 2*k2 + 2*k3 + k4)
		e.gNow = g1
	}
}

// Read fills dst and valid with the next samples (mV) and returns how many
// it wrote: the shorter of the two lengths. It never allocates.
func (e *ECG) Read(dst []float64, valid []bool) int {
	n := min(len(dst), len(valid))
	for k := range n {
		dst[k], valid[k] = e.sample()
	}
	return n
}

func (e *ECG) sample() (float64, bool) {
	t := float64(e.i) * e.dt
	v := e.gain * e.z
	if e.o.WanderMV != 0 {
		v += e.o.WanderMV * math.Sin(twoPi*e.o.WanderHz*t+e.wPhase)
	}
	if e.o.MainsMV != 0 {
		v += e.o.MainsMV * math.Sin(twoPi*e.o.MainsHz*t+e.mPhase)
	}
	if e.o.NoiseMV != 0 {
		v += e.o.NoiseMV * e.noise.norm()
	}
	v += e.art.next()
	v = min(max(v, -e.o.RailMV), e.o.RailMV)

	kind, frozen := e.faults.at(e.i)
	e.hold.update(frozen, [2]float64{v})
	ok := true
	switch kind {
	case LeadOff:
		v, ok = e.o.RailMV, false
	case Dropout:
		v, ok = 0, false
	case Stuck:
		v = e.hold.held[0]
	}
	if ok {
		e.hold.valid([2]float64{v})
	}
	e.leadOff = kind == LeadOff
	e.step()
	e.i++
	return v, ok
}

// LeadOff reports whether the last sample read was taken with a lead off.
func (e *ECG) LeadOff() bool { return e.leadOff }

// Rate returns the sample rate in Hz.
func (e *ECG) Rate() float64 { return e.o.Rate }

// Pos returns the number of samples read so far: the index of the next.
func (e *ECG) Pos() int64 { return e.i }

// Faults returns the faults (scheduled and random) that start before d:
// the ground truth for a fault detector.
func (e *ECG) Faults(d time.Duration) []Fault { return e.faults.list(d) }
