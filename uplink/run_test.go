package uplink

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"medagent/uplink/uplinktest"
)

// fakeClock drives Run's sleeps and clock: each sleep advances the clock
// at once, and the attempts (Status.Attempts going up) are stamped with it.
type fakeClock struct {
	mu       sync.Mutex
	now      time.Time
	attempts []time.Time
	seen     uint64
	sleeps   []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// install makes u use the clock; stop(c) ends Run when it returns true.
func (c *fakeClock) install(u *Uplink, cancel context.CancelFunc, stop func(c *fakeClock) bool) {
	u.now = c.Now
	u.sleep = func(ctx context.Context, d time.Duration) error {
		c.mu.Lock()
		if n := u.Status().Attempts; n > c.seen {
			for ; c.seen < n; c.seen++ {
				c.attempts = append(c.attempts, c.now)
			}
		}
		c.sleeps = append(c.sleeps, d)
		c.now = c.now.Add(d)
		done := stop(c)
		c.mu.Unlock()
		if done {
			cancel()
			return ctx.Err()
		}
		return nil
	}
}

// TestRunRetriesUnreachableBroker checks that brokers that are not there
// are retried in turn with growing, capped backoff, never more than
// MaxConnectsPerMinute times a minute, reported in Status, and that
// cancel is a clean exit.
func TestRunRetriesUnreachableBroker(t *testing.T) {
	p := devPKI(t)
	var addrs []string
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, "tls://"+l.Addr().String())
		l.Close() // nothing listens there now
	}

	var logs strings.Builder
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil))
	src := uplinktest.NewSource()
	o := devOptions(p, "")
	o.Brokers = addrs
	o.BackoffMin, o.BackoffMax = 100*time.Millisecond, 3*time.Second
	u, err := New(o, src, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	u.rand = func() float64 { return 0.999 }
	probed := map[string]int{}
	u.probe = func(_ context.Context, addr string, _ time.Duration) bool { probed[addr]++; return false }
	clock.install(u, cancel, func(c *fakeClock) bool { return len(c.attempts) >= 40 })
	if err := u.Run(ctx); err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
	at := clock.attempts
	for i := 10; i < len(at); i++ {
		if w := at[i].Sub(at[i-10]); w < time.Minute {
			t.Fatalf("attempts %d..%d within %v: more than 10 a minute", i-10, i, w)
		}
	}
	for i := 1; i < len(at); i++ {
		// Full jitter at 0.999 of the cap, or the rate limit's 12 s.
		if g := at[i].Sub(at[i-1]); g > 12*time.Second+10*time.Millisecond {
			t.Errorf("gap %v between attempts %d and %d: over max(cap, 12 s)", g, i-1, i)
		}
	}
	if g := at[4].Sub(at[3]); g < 1500*time.Millisecond {
		t.Errorf("gap %v before the 5th attempt: the backoff did not grow", g)
	}
	st := u.Status()
	if st.Connected || st.Connects != 0 || st.Attempts < 40 || st.LastError == nil || !strings.Contains(st.LastError.Error(), "connect") {
		t.Errorf("Status = %+v", st)
	}
	for _, a := range addrs {
		if probed[hostPort(a)] == 0 {
			t.Errorf("broker %s never probed while down", a)
		}
	}
	if s := src.Stats(); s.Acked != 0 || s.MaxOutstanding != 0 {
		t.Errorf("source touched without a connection: %+v", s)
	}
	logMu.Lock()
	defer logMu.Unlock()
	for _, a := range addrs {
		if c := strings.Count(logs.String(), "broker="+a); c < 10 {
			t.Errorf("broker %s tried %d times of 40, want them in turn", a, c)
		}
	}
}

// TestRunProbeFindsReturningBroker: a broker that listens again is tried
// as soon as a probe sees it, not at the end of a 2-minute backoff.
func TestRunProbeFindsReturningBroker(t *testing.T) {
	p := devPKI(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	o := devOptions(p, "tls://"+addr)
	o.BackoffMax = 2 * time.Minute
	u, err := New(o, uplinktest.NewSource(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	u.rand = func() float64 { return 0.999 }
	var back time.Time // when the broker "returns"
	u.probe = func(_ context.Context, a string, _ time.Duration) bool {
		return a == addr && !back.IsZero() && !clock.now.Before(back)
	}
	clock.install(u, cancel, func(c *fakeClock) bool {
		if len(c.attempts) == 12 && back.IsZero() {
			back = c.now.Add(10 * time.Second)
		}
		return len(c.attempts) >= 13
	})
	if err := u.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if back.IsZero() {
		t.Fatal("the broker never returned")
	}
	got := clock.attempts[12].Sub(back)
	t.Logf("attempt %v after the broker returned (backoff cap 2m, probe interval %v)", got, u.opts.ProbeInterval)
	if got < 0 || got > u.opts.ProbeInterval {
		t.Errorf("returning broker tried %v after it came back, want within the probe interval %v", got, u.opts.ProbeInterval)
	}
}

func TestRunDeadlineIsAnError(t *testing.T) {
	p := devPKI(t)
	u, err := New(devOptions(p, "tls://127.0.0.1:1"), uplinktest.NewSource(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := u.Run(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v, want DeadlineExceeded", err)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
