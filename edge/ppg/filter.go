package ppg

import "math"

// biquad is a second-order IIR section in transposed direct form II.
type biquad struct {
	b0, b1, b2, a1, a2 float64
	z1, z2             float64
}

// Butterworth sections from the bilinear transform (Q = 1/√2), after
// R. Bristow-Johnson's "Audio EQ Cookbook" formulas.
func lowPass(fc, fs float64) biquad {
	w := 2 * math.Pi * fc / fs
	cw, alpha := math.Cos(w), math.Sin(w)/math.Sqrt2
	a0 := 1 + alpha
	return biquad{
		b0: (1 - cw) / 2 / a0, b1: (1 - cw) / a0, b2: (1 - cw) / 2 / a0,
		a1: -2 * cw / a0, a2: (1 - alpha) / a0,
	}
}

func highPass(fc, fs float64) biquad {
	w := 2 * math.Pi * fc / fs
	cw, alpha := math.Cos(w), math.Sin(w)/math.Sqrt2
	a0 := 1 + alpha
	return biquad{
		b0: (1 + cw) / 2 / a0, b1: -(1 + cw) / a0, b2: (1 + cw) / 2 / a0,
		a1: -2 * cw / a0, a2: (1 - alpha) / a0,
	}
}

func (f *biquad) step(x float64) float64 {
	y := f.b0*x + f.z1
	f.z1 = f.b1*x - f.a1*y + f.z2
	f.z2 = f.b2*x - f.a2*y
	return y
}

// settle sets the state as if x had been the input forever, so that a
// large DC level does not ring through the filter at start or after a gap.
func (f *biquad) settle(x float64) {
	y := x * (f.b0 + f.b1 + f.b2) / (1 + f.a1 + f.a2)
	f.z2 = f.b2*x - f.a2*y
	f.z1 = y - f.b0*x
}

// bandPass is the 0.5–5 Hz pulse band: high-pass then low-pass.
type bandPass struct{ hp, lp biquad }

func newBandPass(fs float64) bandPass {
	return bandPass{hp: highPass(0.5, fs), lp: lowPass(5, fs)}
}

func (b *bandPass) step(x float64) float64 { return b.lp.step(b.hp.step(x)) }

func (b *bandPass) settle(x float64) {
	b.hp.settle(x)
	b.lp.settle(0) // the high-pass output of a constant is 0
}
