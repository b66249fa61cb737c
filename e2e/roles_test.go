package e2e

import (
	"testing"
	"time"

	"medagent/uplink/mosquittotest"
)

// Role isolation: acquire and uplink as separate processes. Killing the
// uplink (kill -9) never stops acquisition: the spool keeps growing, and
// after the uplink restarts everything is delivered, nothing lost.
func TestUplinkCrashNeverStopsAcquisition(t *testing.T) {
	t.Parallel()
	r := newRig(t, "tls://127.0.0.1:1")
	b := mosquittotest.Start(t, r.pki)
	r.writeConfig(t, b.URL)
	mon := mosquittotest.Subscribe(t, b, r.pki, "medagent/v1/#", mosquittotest.MonitorOptions{})
	acq := r.start(t, agentBin, "--role", "acquire")
	up := r.start(t, agentBin, "--role", "uplink")
	mon.WaitFor(t, 30*time.Second, "first packs", func(ms []mosquittotest.Message) bool {
		return minPacks(collect(t, ms)) >= 3
	})
	up.kill(t)
	before, _ := r.pending(t)
	time.Sleep(8 * time.Second)
	after, _ := r.pending(t)
	if after < before+3*6 {
		t.Errorf("with the uplink dead the spool went from %d to %d pending records in 8 s: acquisition stalled", before, after)
	}
	select {
	case err := <-acq.done:
		t.Fatalf("the acquire process exited (%v) when the uplink died:\n%s", err, acq.log)
	default:
	}
	up = r.start(t, agentBin, "--role", "uplink")
	mon.WaitFor(t, 60*time.Second, "the backlog", func(ms []mosquittotest.Message) bool {
		return minPacks(collect(t, ms)) >= 12
	})
	acq.stop(t)
	up.stop(t)
	r.drain(t)
	mon.Sync(t, syncTopic) // the last PUBLISHes reach the monitor
	checkComplete(t, collect(t, mon.Messages()), 12, 32)
}
