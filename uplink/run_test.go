package uplink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
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

// TestRunProbeFindsReturningBroker: a broker that listens again is found
// by a probe and tried within the probe interval plus the fleet's return
// window, always within the backoff cap, not at the end of a 2-minute
// backoff.
func TestRunProbeFindsReturningBroker(t *testing.T) {
	for _, c := range []struct {
		fleet  int
		window time.Duration // FleetSize / FleetConnectRate (20/s), capped
		cap    time.Duration
	}{
		{100, 5 * time.Second, 2 * time.Minute},
		{1000, 50 * time.Second, 2 * time.Minute},
		{1000, 25 * time.Second, 30 * time.Second}, // the cap bounds the window
	} {
		t.Run(fmt.Sprintf("fleet %d cap %v", c.fleet, c.cap), func(t *testing.T) {
			got := probeReturn(t, c.fleet, c.cap, 0.999)
			if w := got.window; w != c.window {
				t.Errorf("return window %v, want %v", w, c.window)
			}
			if got.after < 0 || got.after > got.probe+c.window || got.after > c.cap {
				t.Errorf("returning broker tried %v after it came back, want within probe interval %v + window %v <= cap %v", got.after, got.probe, c.window, c.cap)
			}
			if early := probeReturn(t, c.fleet, c.cap, 0.001); early.after > early.probe {
				t.Errorf("with jitter 0.001 tried %v after the return, want within the probe interval", early.after)
			}
		})
	}
}

type returned struct {
	after, probe, window time.Duration
}

// probeReturn runs a device of a fleet of the given size against a broker
// that is down for its first 12 attempts and returns 10 s later; every
// random draw is r. It returns when the device tried the broker again.
func probeReturn(t *testing.T, fleet int, cap time.Duration, r float64) returned {
	t.Helper()
	p := devPKI(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	o := devOptions(p, "tls://"+addr)
	o.BackoffMax, o.FleetSize = cap, fleet
	u, err := New(o, uplinktest.NewSource(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	u.rand = func() float64 { return r }
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
	got := returned{after: clock.attempts[12].Sub(back), probe: u.opts.ProbeInterval, window: u.opts.returnWindow()}
	t.Logf("r=%.3f: attempt %v after the broker returned (cap %v, probe interval %v, window %v)", r, got.after, cap, got.probe, got.window)
	return got
}

// TestFleetReturnSpreads: 300 devices (each its own random source) lose
// the broker together and see it return at the same instant. With a
// fleet_size of 300 at 20 connects a second their first attempts after
// the return spread over the 15 s window: no second carries more than
// a few times the fleet's share, and all come within the cap.
func TestFleetReturnSpreads(t *testing.T) {
	p := devPKI(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	const n = 300
	o := devOptions(p, "tls://"+addr)
	o.FleetSize = n
	t0 := time.Unix(1e9, 0)
	back := t0.Add(3 * time.Minute)
	perSecond := map[int]int{}
	var last time.Duration
	for i := range n {
		u, err := New(o, uplinktest.NewSource(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(uint64(i), 7))
		u.rand = rnd.Float64
		ctx, cancel := context.WithCancel(t.Context())
		clock := &fakeClock{now: t0}
		u.probe = func(_ context.Context, _ string, _ time.Duration) bool { return !clock.now.Before(back) }
		var after time.Duration = -1
		clock.install(u, cancel, func(c *fakeClock) bool {
			if k := len(c.attempts); k > 0 && !c.attempts[k-1].Before(back) {
				after = c.attempts[k-1].Sub(back)
				return true
			}
			return false
		})
		if err := u.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if after < 0 {
			t.Fatalf("device %d never tried after the return", i)
		}
		perSecond[int(after/time.Second)]++
		last = max(last, after)
	}
	w := o.FleetSize / 20 // seconds
	peak := 0
	for _, k := range perSecond {
		peak = max(peak, k)
	}
	t.Logf("%d devices: attempts per second after the return %v; peak %d, last %v", n, perSecond, peak, last)
	if peak > 3*n/w {
		t.Errorf("peak %d attempts in one second, want at most 3x the fleet's share %d/s over the %d s window", peak, n/w, w)
	}
	if last > 30*time.Second || last < time.Duration(w)*time.Second/2 {
		t.Errorf("last device tried %v after the return: want spread over the %d s window and within the 30 s cap", last, w)
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
