package ecgtest

import "math/rand/v2"

// Dropouts returns the validity of n samples at rate Hz with stretches of
// invalid samples, as an acquisition path that misses its slots under CPU
// load delivers them (each lost slot an invalid sample at its own time):
// stretches of minDur..maxDur seconds until frac of the samples are
// invalid. Every third stretch is centred on one of the R peaks in rs (if
// any), so that some cover a QRS complex; the others fall anywhere.
func Dropouts(n int, rate, frac, minDur, maxDur float64, rs []int, seed uint64) []bool {
	ok := make([]bool, n)
	for i := range ok {
		ok[i] = true
	}
	r := rand.New(rand.NewPCG(seed, 0x5d))
	want := int(frac * float64(n))
	lost := 0
	for k := 0; lost < want && k < 100*n; k++ {
		d := int((minDur + (maxDur-minDur)*r.Float64()) * rate)
		a := r.IntN(n)
		if len(rs) > 0 && k%3 == 0 {
			a = rs[r.IntN(len(rs))] - d/2
		}
		for i := max(a, 0); i < min(a+d, n) && lost < want; i++ {
			if ok[i] {
				ok[i] = false
				lost++
			}
		}
	}
	return ok
}
