package uplink

import (
	"time"
)

// retry decides when the next connect attempt may start. It is a pure
// state machine: the caller passes the time and the random numbers.
//
// The backoff is capped exponential with full jitter: before the n-th
// attempt since the last stable session it is uniform in
// [0, min(BackoffMax, BackoffMin·2^n)). A session counts as stable, and
// resets n, only when it stayed connected for BackoffResetAfter, so a
// broker that accepts and drops at once still sees the backoff grow.
//
// Independently, a token bucket keeps attempts at or under
// MaxConnectsPerMinute in every 60 s: it holds limit/2 tokens (a failover
// through the broker list needs no wait) and refills the other half
// evenly over the minute. In any window of 60 s at most
// burst + 60 s·rate = limit attempts pass, and the longest the bucket can
// delay an attempt is 60 s/(limit − burst) (12 s at the default 10), so a
// broker that comes back is tried within max(BackoffMax, that) seconds.
type retry struct {
	base, cap, resetAfter time.Duration

	burst, rate float64 // tokens; tokens per second
	tokens      float64
	at          time.Time // when tokens was last brought up to date
	fails       int       // attempts since the last stable session
}

func newRetry(o Options, now time.Time) *retry {
	burst := float64(o.MaxConnectsPerMinute / 2)
	return &retry{
		base: o.BackoffMin, cap: o.BackoffMax, resetAfter: o.BackoffResetAfter,
		burst: burst, rate: (float64(o.MaxConnectsPerMinute) - burst) / 60,
		tokens: burst, at: now,
	}
}

// backoff is the jittered wait before the next attempt, r in [0, 1).
func (r *retry) backoff(rnd float64) time.Duration {
	d := r.base
	for i := 0; i < r.fails && d < r.cap; i++ {
		d *= 2
	}
	if d > r.cap || d <= 0 {
		d = r.cap
	}
	return time.Duration(rnd * float64(d))
}

func (r *retry) refill(now time.Time) {
	if now.After(r.at) {
		r.tokens = min(r.burst, r.tokens+now.Sub(r.at).Seconds()*r.rate)
		r.at = now
	}
}

// limitWait is how long from now until the rate limit lets an attempt pass.
func (r *retry) limitWait(now time.Time) time.Duration {
	r.refill(now)
	if r.tokens >= 1 {
		return 0
	}
	// Round up: an attempt must never come a nanosecond early.
	return time.Duration((1-r.tokens)/r.rate*float64(time.Second)) + time.Millisecond
}

// take records an attempt at now; the caller has waited limitWait.
func (r *retry) take(now time.Time) {
	r.refill(now)
	r.tokens--
}

// ended records how long the session that just ended was connected (0 if
// the broker never accepted it).
func (r *retry) ended(connectedFor time.Duration) {
	if connectedFor >= r.resetAfter {
		r.fails = 0
		return
	}
	r.fails++
}
