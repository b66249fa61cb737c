//go:build long

package uplink_test

import (
	"testing"
	"time"

	"medagent/uplink"
	"medagent/uplink/natstest"
)

// TestClusterFullOutageLong stops all three nodes for two minutes while
// acquisition goes on, with ten minutes' worth of backlog on top, then
// starts them again. Nothing may be lost, the device may not try more
// than MaxConnectsPerMinute times in any minute, and the time from the
// restart to the last record acknowledged (the drain, reconnect included)
// is reported. The uplink runs with the default backoff (cap 30 s), reset,
// rate limit and probe interval.
func TestClusterFullOutageLong(t *testing.T) {
	t.Parallel()
	p := writePKI(t)
	c := natstest.Start(t, p.Dir, natstest.Options{})
	mon := natstest.Subscribe(t, p.Dir, c.URLs(), "backend", "medagent/v1/#")
	w, r := openSpool(t)
	o := clusterOptions(p, c)
	o.BackoffMin, o.BackoffMax, o.BackoffResetAfter, o.ProbeInterval = 0, 0, 0, 0 // the defaults
	u, err := uplink.New(o, r, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	const rate = 10 // packs a second, about what a bedside device sends
	prod := startProducer(t, w, time.Second/rate)
	stopRun := run(t, u)
	waitFor(t, "records acked", 30*time.Second, func() bool { return u.Status().Acked > 50 })

	for _, n := range c.Nodes {
		n.Kill()
	}
	down := time.Now()
	t.Logf("all nodes down at %d acked", u.Status().Acked)
	prod.Backlog(t, 10*60*rate)
	// Sample the connect attempts to find the busiest minute.
	var samples []struct {
		at time.Time
		n  uint64
	}
	for time.Since(down) < 2*time.Minute {
		samples = append(samples, struct {
			at time.Time
			n  uint64
		}{time.Now(), u.Status().Attempts})
		time.Sleep(100 * time.Millisecond)
	}
	busiest := uint64(0)
	for i, s := range samples {
		for j := i; j < len(samples) && samples[j].at.Sub(s.at) < time.Minute; j++ {
			busiest = max(busiest, samples[j].n-s.n)
		}
	}
	restart := time.Now()
	for _, n := range c.Nodes {
		n.Restart()
	}
	c.WaitHealthy(t, 60*time.Second)
	healthy := time.Since(restart)
	prod.Stop()
	total := prod.Total()
	waitFor(t, "drain", 120*time.Second, func() bool { return u.Status().Acked >= total })
	drain := time.Since(restart)
	st := u.Status()
	msgs := waitMonitor(t, mon, p.DeviceID, prod, 120*time.Second)
	stopRun()
	d := checkDelivery(t, p.DeviceID, prod, msgs, o.InFlight)
	t.Logf("outage 2m0s, backlog %d records; cluster healthy %v after restart; drained %v after restart (%v after healthy); "+
		"%d connects in %d attempts, busiest minute of the outage %d attempts; %d resent, %d redelivered by the broker",
		total, healthy.Round(time.Millisecond), drain.Round(time.Millisecond), (drain - healthy).Round(time.Millisecond),
		st.Connects, st.Attempts, busiest, d.Resent, d.Redelivered)
	if busiest > 10 {
		t.Errorf("%d connect attempts within one minute, want at most 10", busiest)
	}
}
