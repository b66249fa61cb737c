package ppg

import "math"

// biquad is a second-order IIR section in transposed direct form II.
type biquad struct {
	b0, b1, b2, a1, a2 float64
	z1, z2             float64
}

// Sections from the bilinear transform, after R. Bristow-Johnson's "Audio
// EQ Cookbook" formulas; q = 1/√2 gives a second-order Butterworth, and
// the pairs in butter4 cascade into a fourth-order one.
func lowPass(fc, fs, q float64) biquad {
	w := 2 * math.Pi * fc / fs
	cw, alpha := math.Cos(w), math.Sin(w)/(2*q)
	a0 := 1 + alpha
	return biquad{
		b0: (1 - cw) / 2 / a0, b1: (1 - cw) / a0, b2: (1 - cw) / 2 / a0,
		a1: -2 * cw / a0, a2: (1 - alpha) / a0,
	}
}

func highPass(fc, fs, q float64) biquad {
	w := 2 * math.Pi * fc / fs
	cw, alpha := math.Cos(w), math.Sin(w)/(2*q)
	a0 := 1 + alpha
	return biquad{
		b0: (1 + cw) / 2 / a0, b1: -(1 + cw) / a0, b2: (1 + cw) / 2 / a0,
		a1: -2 * cw / a0, a2: (1 - alpha) / a0,
	}
}

// Q of the two sections of a fourth-order Butterworth: 1/(2·cos(π/8)) and
// 1/(2·cos(3π/8)).
var butter4 = [2]float64{0.5411961, 1.3065630}

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

// channel filters one PPG channel: a fourth-order 0.5 Hz high-pass removes
// the DC level and drift (respiratory wander at 0.25 Hz is cut to 6 %, a
// 40 /min pulse keeps 96 %); after it, a second-order low-pass at
// min(12 Hz, 0.4·rate) gives the signal whose peak-to-peak is the pulse's
// AC (wide enough to keep the sharp systolic upstroke at high pulse
// rates), and, for the IR channel only, a low-pass at 5 Hz gives the
// smoother signal pulses are detected on.
type channel struct {
	hp1, hp2, ac, det biquad
	detect            bool
}

func newChannel(fs float64, detect bool) channel {
	return channel{
		hp1: highPass(0.5, fs, butter4[0]), hp2: highPass(0.5, fs, butter4[1]),
		ac: lowPass(math.Min(12, 0.4*fs), fs, 1/math.Sqrt2), det: lowPass(5, fs, 1/math.Sqrt2),
		detect: detect,
	}
}

// step returns the AC-path and detection-path outputs (the latter 0 when
// the channel does not detect).
func (c *channel) step(x float64) (ac, det float64) {
	h := c.hp2.step(c.hp1.step(x))
	ac = c.ac.step(h)
	if c.detect {
		det = c.det.step(h)
	}
	return ac, det
}

func (c *channel) settle(x float64) {
	c.hp1.settle(x)
	c.hp2.settle(0) // the high-pass output of a constant is 0
	c.ac.settle(0)
	c.det.settle(0)
}
