package uplink

import (
	"context"
	"time"
)

// backoff returns the sleep before reconnect attempt n (0-based): min·2^n
// capped at max, with "equal jitter": uniform in [d/2, d] for r in [0, 1).
func backoff(n int, min, max time.Duration, r float64) time.Duration {
	d := min
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	if d > max || d <= 0 {
		d = max
	}
	return d/2 + time.Duration(r*float64(d/2))
}

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
