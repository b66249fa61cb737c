package uplink

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	const s = time.Second
	cases := []struct {
		n    int
		r    float64
		want time.Duration
	}{
		{0, 0, s / 2},
		{0, 0.999999, s - 1*time.Microsecond},
		{1, 0, s},
		{2, 0.5, 3 * s},   // d = 4s: 2s + 0.5·2s
		{5, 0, 16 * s},    // d = 32s
		{6, 0, 30 * s},    // d = 64s capped at 60s
		{1000, 0, 30 * s}, // no overflow with large n
	}
	for _, c := range cases {
		got := backoff(c.n, s, time.Minute, c.r)
		if d := got - c.want; d < -2*time.Microsecond || d > 2*time.Microsecond {
			t.Errorf("backoff(%d, r=%v) = %v, want %v", c.n, c.r, got, c.want)
		}
	}
}
