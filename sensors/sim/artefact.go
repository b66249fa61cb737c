package sim

import "math"

// artefact is a motion artefact generator shared by the ECG and PPG: at
// random instants (Poisson) the baseline jumps and rings, then recovers.
// The jump decays with a 0.4 s time constant, the ringing (1–4 Hz, as a
// limb or cable moves) with 0.25 s.
type artefact struct {
	r         rng
	p         float64 // probability of an onset per sample
	size      float64
	dt        float64
	stepDecay float64
	oscDecay  float64

	step   float64
	osc    float64
	oscF   float64
	oscPh  float64
	oscAge float64
}

func newArtefact(r rng, perMin, size, rate float64) artefact {
	return artefact{
		r: r, p: perMin / 60 / rate, size: size, dt: 1 / rate,
		stepDecay: math.Exp(-1 / (0.4 * rate)),
		oscDecay:  math.Exp(-1 / (0.25 * rate)),
	}
}

// next returns the artefact's value at the next sample.
func (a *artefact) next() float64 {
	if a.p == 0 {
		return 0
	}
	if a.r.float() < a.p {
		a.step += a.size * a.r.norm()
		a.osc = a.size * (0.5 + a.r.float())
		a.oscF = 1 + 3*a.r.float()
		a.oscPh = twoPi * a.r.float()
		a.oscAge = 0
	}
	v := a.step
	if a.osc != 0 {
		v += a.osc * math.Sin(twoPi*a.oscF*a.oscAge+a.oscPh)
		a.oscAge += a.dt
		a.osc *= a.oscDecay
		if math.Abs(a.osc) < 1e-9*a.size {
			a.osc = 0
		}
	}
	a.step *= a.stepDecay
	return v
}
