package sim

import (
	"math"
	"math/bits"
)

// rng is xoshiro256** seeded through SplitMix64. It is written here rather
// than taken from math/rand so that the sequence for a seed is pinned by
// this package, not by the Go release: the golden file depends on it.
//
// Every consumer (HRV phases, ECG noise, PPG artefacts, faults of one
// stream...) gets its own rng derived from (seed, label), so adding or
// configuring one stream never shifts the random numbers of another.
type rng struct {
	s        [4]uint64
	spare    float64
	hasSpare bool
}

func newRNG(seed int64, label string) rng {
	// FNV-1a of the label, mixed into the seed.
	h := uint64(14695981039346656037)
	for i := 0; i < len(label); i++ {
		h ^= uint64(label[i])
		h *= 1099511628211
	}
	x := uint64(seed) ^ h
	var r rng
	for i := range r.s {
		r.s[i] = splitmix64(&x)
	}
	return r
}

func splitmix64(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) next() uint64 {
	s := &r.s
	out := bits.RotateLeft64(s[1]*5, 7) * 9
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = bits.RotateLeft64(s[3], 45)
	return out
}

// float returns a uniform value in [0, 1).
func (r *rng) float() float64 {
	return float64(r.next()>>11) * 0x1p-53
}

// norm returns a standard normal value (Box–Muller, second value cached).
func (r *rng) norm() float64 {
	if r.hasSpare {
		r.hasSpare = false
		return r.spare
	}
	u1 := 1 - r.float() // (0, 1]: log is finite
	u2 := r.float()
	rad := math.Sqrt(-2 * math.Log(u1))
	s, c := math.Sincos(2 * math.Pi * u2)
	r.spare = rad * s
	r.hasSpare = true
	return rad * c
}

// exp returns an exponential value with mean 1.
func (r *rng) exp() float64 {
	return -math.Log(1 - r.float())
}
