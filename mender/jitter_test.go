package mender

import (
	"sync"
	"testing"
	"time"

	"medagent/mender/mendertest"
)

// scripted makes c draw its random numbers from vals, in turn.
func scripted(c *Client, vals ...float64) {
	var mu sync.Mutex
	i := 0
	c.rand = func() float64 {
		mu.Lock()
		defer mu.Unlock()
		v := vals[i%len(vals)]
		i++
		return v
	}
}

// TestPollJitter: the waits between polls are drawn anew from
// [3/4, 5/4) of poll_interval: a fleet that started together (and would
// otherwise poll in lockstep for ever) spreads out within an interval.
func TestPollJitter(t *testing.T) {
	r := newRig(t, mendertest.Options{AcceptAll: true, PostNext: true})
	r.opts.PollInterval = 400 * time.Millisecond
	c := r.client(t)
	scripted(c, 0, 0.5, 0.999)
	sleeps := recordSleeps(c, 0)
	run(t, c)
	waitFor(t, "polls", 20*time.Second, func() bool { return len(sleeps()) >= 6 })
	got := sleeps()[:6]
	var lo, hi time.Duration = time.Hour, 0
	for i, d := range got {
		// The first draw is the inventory's (due at start), then one per
		// poll; the wait is the poll's minus the time the cycle took
		// (well under 100 ms).
		want := 300*time.Millisecond + time.Duration([]float64{0, 0.5, 0.999}[(i+1)%3]*float64(200*time.Millisecond))
		if d > want || d < want-100*time.Millisecond {
			t.Errorf("wait %d = %v, want just under %v", i, d, want)
		}
		lo, hi = min(lo, d), max(hi, d)
	}
	if hi-lo < 150*time.Millisecond {
		t.Errorf("waits %v: not spread over [300ms, 500ms)", got)
	}
	if d := c.jittered(30 * time.Minute); d < 22*time.Minute+30*time.Second || d >= 37*time.Minute+30*time.Second {
		t.Errorf("jittered(30m) = %v", d)
	}
}

// TestAuthRetryJitter: a device the server does not accept yet asks again
// after a full-jitter backoff (uniform below a cap that doubles from
// retry_min to retry_max), so a fleet waiting for an operator does not
// ask in step.
func TestAuthRetryJitter(t *testing.T) {
	r := newRig(t, mendertest.Options{})
	c := r.client(t)
	scripted(c, 0.5, 0.25)
	sleeps := recordSleeps(c, 0)
	run(t, c)
	waitFor(t, "auth retries", 10*time.Second, func() bool { return len(sleeps()) >= 5 })
	// RetryMin 100ms, RetryMax 400ms: caps 100, 200, 400, 400, 400 ms.
	want := []time.Duration{50, 50, 200, 100, 200}
	for i, d := range sleeps()[:5] {
		if d != want[i]*time.Millisecond {
			t.Errorf("retry %d waited %v, want %v", i, d, want[i]*time.Millisecond)
		}
	}
	if st := c.Status(); st.Auth != "pending acceptance" {
		t.Errorf("auth = %q", st.Auth)
	}
}

// TestRetryAfterJitter: a 429's Retry-After is a floor, and the waits of
// the devices it turned away spread over [d, 3/2·d).
func TestRetryAfterJitter(t *testing.T) {
	c := &Client{rand: func() float64 { return 0.999 }}
	if d := c.afterRetryAfter(10 * time.Second); d < 14*time.Second || d >= 15*time.Second {
		t.Errorf("afterRetryAfter(10s) at 0.999 = %v", d)
	}
	c.rand = func() float64 { return 0 }
	if d := c.afterRetryAfter(10 * time.Second); d != 10*time.Second {
		t.Errorf("afterRetryAfter(10s) at 0 = %v, want the server's 10s", d)
	}
}
