package sensors

import (
	"math"
	"time"
)

// Block is a run of consecutive samples of one stream.
//
// Samples are in the stream's physical unit (mV for ECG, raw counts for PPG,
// °C for temperature). Valid[i] is false where sample i is missing or known
// bad (lead off, drop-out, invalid marker); consumers treat it as a gap.
// A sample that was never read (a lost frame, a slot the sampler missed)
// is NaN as well as invalid (see Lost): a consumer can tell "the sensor
// said this sample is bad" (a lead off) from "we have no sample".
type Block struct {
	Stream string
	Unit   string
	// Mono is the monotonic time of the first sample, as a duration since
	// the process's clock origin; Wall is the same instant on the wall clock.
	Mono    time.Duration
	Wall    time.Time
	Rate    float64 // samples per second
	Samples []float64
	Valid   []bool
}

// Lost returns n samples that were never read: NaN, to be paired with
// Valid false.
func Lost(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}

// IsLost reports whether sample v was never read (see Lost).
func IsLost(v float64) bool { return math.IsNaN(v) }

// Reset empties b for reuse, keeping its capacity.
func (b *Block) Reset() {
	b.Samples = b.Samples[:0]
	b.Valid = b.Valid[:0]
}

// Append adds one sample.
func (b *Block) Append(v float64, ok bool) {
	b.Samples = append(b.Samples, v)
	b.Valid = append(b.Valid, ok)
}

// Duration is the time the block covers.
func (b *Block) Duration() time.Duration {
	if b.Rate <= 0 {
		return 0
	}
	return time.Duration(float64(len(b.Samples)) / b.Rate * float64(time.Second))
}
