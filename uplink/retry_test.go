package uplink

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestBackoffFullJitter(t *testing.T) {
	const s = time.Second
	r := newRetry(Options{BackoffMin: s, BackoffMax: 30 * s, BackoffResetAfter: 10 * s, MaxConnectsPerMinute: 10}, time.Time{})
	cases := []struct {
		fails int
		rnd   float64
		want  time.Duration
	}{
		{0, 0, 0},
		{0, 0.5, s / 2},
		{1, 0.999, 1998 * time.Millisecond},
		{2, 0.5, 2 * s},
		{4, 1, 16 * s},
		{5, 1, 30 * s},    // 32 s capped at 30 s
		{1000, 1, 30 * s}, // no overflow with large n
		{1000, 0, 0},      // full jitter reaches down to 0
	}
	for _, c := range cases {
		r.fails = c.fails
		if got := r.backoff(c.rnd); got != c.want {
			t.Errorf("backoff(fails=%d, r=%v) = %v, want %v", c.fails, c.rnd, got, c.want)
		}
	}
}

func TestBackoffResetsOnlyAfterStableSession(t *testing.T) {
	r := newRetry(Options{BackoffMin: time.Second, BackoffMax: 30 * time.Second, BackoffResetAfter: 10 * time.Second, MaxConnectsPerMinute: 10}, time.Time{})
	r.ended(0)
	r.ended(0)
	r.ended(9 * time.Second) // accepted, then dropped: a flapping broker
	if r.fails != 3 {
		t.Fatalf("fails = %d after two refusals and a short session, want 3", r.fails)
	}
	r.ended(10 * time.Second)
	if r.fails != 0 {
		t.Fatalf("fails = %d after a stable session, want 0", r.fails)
	}
}

// TestRetryRateLimit drives the policy as Run does, with random backoff
// draws and random session lengths, and checks the two promises: never
// more than MaxConnectsPerMinute attempts in any 60 s, and never a wait
// between a session's end and the next attempt longer than max(BackoffMax, 60 s/(limit - limit/2))
// (so that a broker that comes back is found within that).
func TestRetryRateLimit(t *testing.T) {
	for _, c := range []struct {
		limit int
		cap   time.Duration
	}{{10, 30 * time.Second}, {10, 2 * time.Minute}, {10, 2 * time.Second}, {2, 5 * time.Second}, {60, time.Second}} {
		rng := rand.New(rand.NewPCG(uint64(c.limit), uint64(c.cap)))
		o := Options{BackoffMin: 100 * time.Millisecond, BackoffMax: c.cap, BackoffResetAfter: 10 * time.Second, MaxConnectsPerMinute: c.limit}
		now := time.Unix(0, 0)
		r := newRetry(o, now)
		maxGap := max(c.cap, time.Duration(60/float64(c.limit-c.limit/2)*float64(time.Second))+time.Millisecond)
		var at []time.Time
		for i := 0; i < 20000; i++ {
			waitFrom := now
			b := r.backoff(rng.Float64())
			if i%7 == 0 {
				b = time.Duration(rng.Float64() * float64(b)) // a probe cut the backoff short
			}
			now = now.Add(b)
			now = now.Add(r.limitWait(now))
			r.take(now)
			if now.Sub(waitFrom) > maxGap {
				t.Fatalf("limit %d cap %v: waited %v before an attempt, want <= %v", c.limit, c.cap, now.Sub(waitFrom), maxGap)
			}
			at = append(at, now)
			// Sessions: mostly refused, some short, some stable.
			var d time.Duration
			switch rng.IntN(4) {
			case 1:
				d = time.Duration(rng.IntN(3000)) * time.Millisecond
			case 2:
				d = 15 * time.Second
			}
			now = now.Add(d)
			r.ended(d)
		}
		for i := c.limit; i < len(at); i++ {
			if w := at[i].Sub(at[i-c.limit]); w < time.Minute {
				t.Fatalf("limit %d cap %v: %d attempts within %v", c.limit, c.cap, c.limit+1, w)
			}
		}
	}
}
