package uplink_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"medagent/senml"
	"medagent/uplink"
	"medagent/uplink/mosquittotest"
	"medagent/uplink/uplinktest"
)

// TestBrokerOutage stops the broker for 5 s while the device keeps
// producing 20 packs/s, then restarts it: no record may be lost, and
// duplicates may only come from within the in-flight window.
// TestBrokerOutageLong (build tag "long", make test-long) does 30 s.
func TestBrokerOutage(t *testing.T) { testOutage(t, 5*time.Second) }

func testOutage(t *testing.T, outage time.Duration) {
	p := writePKI(t)
	// Persistence keeps the monitor's session and the messages queued for
	// it while it reconnects, so that what it misses is the uplink's loss
	// only, not the monitor's.
	b := mosquittotest.StartWithOptions(t, p.Dir, mosquittotest.Options{Persistence: true})
	mon := mosquittotest.Subscribe(t, b, p.Dir, "medagent/v1/+/telemetry/#", mosquittotest.MonitorOptions{Persistent: "outage-monitor"})

	const window = 8
	src := uplinktest.NewSource()
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
	n := 0
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				src.Append(vitals(n))
				n++
			}
		}
	})

	waitAcked(t, src, 20, 10*time.Second)
	b.Stop()
	t.Logf("broker stopped for %v", outage)
	time.Sleep(outage)
	if u.Status().Connected {
		t.Error("Status says connected while the broker is down")
	}
	if st := src.Stats(); st.Appended-st.Acked < int(outage/(50*time.Millisecond))/2 {
		t.Errorf("only %d records waiting after the outage: was the producer running?", st.Appended-st.Acked)
	}
	b.Restart()
	time.Sleep(time.Second)
	stopProducer()
	wg.Wait()
	waitAcked(t, src, n, 30*time.Second)

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
	st, ss := u.Status(), src.Stats()
	t.Logf("%d records, %d messages, %d duplicates, %d connects, %d rewinds, max outstanding %d",
		n, len(got), dups, st.Connects, ss.Rewinds, ss.MaxOutstanding)
	if st.Connects < 2 || ss.Rewinds < 1 {
		t.Errorf("connects %d, rewinds %d: the outage did not force a reconnect", st.Connects, ss.Rewinds)
	}
	if dups > window*int(st.Connects-1) {
		t.Errorf("%d duplicates over %d reconnects, window %d", dups, st.Connects-1, window)
	}
	if ss.MaxOutstanding > window {
		t.Errorf("%d records outstanding at once, window %d", ss.MaxOutstanding, window)
	}
}
