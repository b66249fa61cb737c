package ecg

import "math"

// biquad is a second-order IIR section in direct form I. Coefficients follow
// the well-known "Audio EQ Cookbook" (R. Bristow-Johnson) bilinear designs.
type biquad struct {
	b0, b1, b2, a1, a2 float64
	x1, x2, y1, y2     float64
}

func (f *biquad) step(x float64) float64 {
	y := f.b0*x + f.b1*f.x1 + f.b2*f.x2 - f.a1*f.y1 - f.a2*f.y2
	f.x2, f.x1 = f.x1, x
	f.y2, f.y1 = f.y1, y
	return y
}

// prime sets the state to the steady state for a constant input x, so that
// a DC offset at start-up does not ring through the filter.
func (f *biquad) prime(x float64) {
	g := (f.b0 + f.b1 + f.b2) / (1 + f.a1 + f.a2)
	f.x1, f.x2 = x, x
	f.y1, f.y2 = g*x, g*x
}

type kind int

const (
	lowPass kind = iota
	highPass
	notch
)

func newBiquad(k kind, f0, q, fs float64) biquad {
	w := 2 * math.Pi * f0 / fs
	cw, sw := math.Cos(w), math.Sin(w)
	alpha := sw / (2 * q)
	var b0, b1, b2 float64
	switch k {
	case lowPass:
		b0, b1, b2 = (1-cw)/2, 1-cw, (1-cw)/2
	case highPass:
		b0, b1, b2 = (1+cw)/2, -(1 + cw), (1+cw)/2
	case notch:
		b0, b1, b2 = 1, -2*cw, 1
	}
	a0 := 1 + alpha
	return biquad{b0: b0 / a0, b1: b1 / a0, b2: b2 / a0, a1: -2 * cw / a0, a2: (1 - alpha) / a0}
}

// ring is a fixed-size history of float64 values indexed by absolute
// sample number.
type ring struct {
	v    []float64
	mask int64
}

func newRing(min int) ring {
	n := 1
	for n < min {
		n <<= 1
	}
	return ring{v: make([]float64, n), mask: int64(n - 1)}
}

func (r *ring) set(i int64, x float64) { r.v[i&r.mask] = x }
func (r *ring) at(i int64) float64     { return r.v[i&r.mask] }
func (r *ring) size() int64            { return int64(len(r.v)) }
