package uplink_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"medagent/senml"
	"medagent/telemetry"
	"medagent/uplink"
	"medagent/uplink/mosquittotest"
	"medagent/uplink/uplinktest"
)

// TestBrokerOutage stops the broker for 5 s while the device keeps
// producing 20 packs/s, then restarts it: no record may be lost, and
// duplicates may only come from within the in-flight window.
// TestBrokerOutageLong (build tag "long", make test-long) does 30 s.
func TestBrokerOutage(t *testing.T) {
	t.Parallel()
	t.Run("fake spool", func(t *testing.T) { testOutage(t, 5*time.Second, false) })
	t.Run("real spool", func(t *testing.T) { testOutage(t, 5*time.Second, true) })
}

// outageSource is the spool under test: the hand-written fake (which also
// checks the window and rewinds) or the real spool.
type outageSource struct {
	uplink.Source
	fake   *uplinktest.Source
	append func(telemetry.Pack)
}

func newOutageSource(t *testing.T, real bool) outageSource {
	if !real {
		f := uplinktest.NewSource()
		return outageSource{Source: f, fake: f, append: func(p telemetry.Pack) { f.Append(p) }}
	}
	w, r := openSpool(t)
	return outageSource{Source: r, append: func(p telemetry.Pack) { appendPack(t, w, p) }}
}

// waitStatusAcked waits until the uplink acked n records.
func waitStatusAcked(t *testing.T, u *uplink.Uplink, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for u.Status().Acked < uint64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d records acked after %v", u.Status().Acked, n, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testOutage(t *testing.T, outage time.Duration, real bool) {
	p := writePKI(t)
	// Persistence keeps the monitor's session and the messages queued for
	// it while it reconnects, so that what it misses is the uplink's loss
	// only, not the monitor's.
	b := mosquittotest.StartWithOptions(t, p.Dir, mosquittotest.Options{Persistence: true})
	mon := mosquittotest.Subscribe(t, b, p.Dir, "medagent/v1/+/telemetry/#", mosquittotest.MonitorOptions{Persistent: "outage-monitor"})

	const window = 8
	src := newOutageSource(t, real)
	o := options(p, b)
	o.InFlight = window
	o.ConnectTimeout = 2 * time.Second
	u, err := uplink.New(o, src, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	stopRun := run(t, u)

	// The producer stands for acquisition: it appends at 20 Hz whatever the
	// uplink does.
	ctx, stopProducer := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var mu sync.Mutex // guards n
	n := 0
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				mu.Lock()
				src.append(vitals(n))
				n++
				mu.Unlock()
			}
		}
	})

	waitStatusAcked(t, u, 20, 10*time.Second)
	b.Stop()
	t.Logf("broker stopped for %v", outage)
	time.Sleep(outage)
	if u.Status().Connected {
		t.Error("Status says connected while the broker is down")
	}
	mu.Lock()
	waiting := n - int(u.Status().Acked)
	mu.Unlock()
	if waiting < int(outage/(50*time.Millisecond))/2 {
		t.Errorf("only %d records waiting after the outage: was the producer running?", waiting)
	}
	b.Restart()
	time.Sleep(time.Second)
	stopProducer()
	wg.Wait()
	waitStatusAcked(t, u, n, 30*time.Second)

	const topic = "medagent/v1/" + device + "/telemetry/vitals"
	msgs := mon.WaitFor(t, 30*time.Second, "all seqs", func(m []mosquittotest.Message) bool {
		seen := map[uint64]bool{}
		for _, s := range seqs(t, onTopic(m, topic), senml.JSON) {
			seen[s] = true
		}
		return len(seen) == n
	})
	stopRun()

	got := seqs(t, onTopic(msgs, topic), senml.JSON)
	seen := map[uint64]int{}
	var high uint64
	dups := 0
	for i, s := range got {
		if s < 1 || s > uint64(n) {
			t.Fatalf("message %d has seq %d outside 1..%d", i, s, n)
		}
		seen[s]++
		if seen[s] > 1 {
			dups++
		}
		if s <= high && high-s >= window {
			t.Errorf("message %d: seq %d after %d: a rewind of more than the window (%d)", i, s, high, window)
		}
		if s > high+1 {
			t.Errorf("message %d: seq %d after %d: out of order", i, s, high)
		}
		high = max(high, s)
	}
	for s := uint64(1); s <= uint64(n); s++ {
		if seen[s] == 0 {
			t.Errorf("seq %d lost", s)
		}
	}
	st := u.Status()
	t.Logf("%d records, %d messages, %d duplicates, %d connects", n, len(got), dups, st.Connects)
	if st.Connects < 2 {
		t.Errorf("%d connects: the outage did not force a reconnect", st.Connects)
	}
	if dups > window*int(st.Connects-1) {
		t.Errorf("%d duplicates over %d reconnects, window %d", dups, st.Connects-1, window)
	}
	if src.fake != nil {
		ss := src.fake.Stats()
		t.Logf("fake spool: %d rewinds, max outstanding %d", ss.Rewinds, ss.MaxOutstanding)
		if ss.Rewinds < 1 {
			t.Error("no Rewind after the reconnect")
		}
		if ss.MaxOutstanding > window {
			t.Errorf("%d records outstanding at once, window %d", ss.MaxOutstanding, window)
		}
	}
}
