package e2e

import (
	"strings"
	"testing"
	"time"

	"medagent/uplink/mosquittotest"
)

// (a) Telemetry reaches a real mosquitto over mutual TLS as valid SenML
// with IEEE 11073 names and UCUM units, in sequence.
func TestTelemetryArrivesAsSenML(t *testing.T) {
	t.Parallel()
	r := newRig(t, "tls://127.0.0.1:1") // replaced below once the broker has a port
	b := mosquittotest.Start(t, r.pki)
	r.writeConfig(t, b.URL)
	mon := mosquittotest.Subscribe(t, b, r.pki, "medagent/v1/#", mosquittotest.MonitorOptions{})
	p := r.start(t, agentBin)
	mon.WaitFor(t, 30*time.Second, "4 packs per sensor", func(ms []mosquittotest.Message) bool {
		return len(collect(t, ms)) == 3 && minPacks(collect(t, ms)) >= 4
	})
	p.stop(t)
	streams := collect(t, mon.Messages())
	checkComplete(t, streams, 4, 0)
	want := map[string]string{ // record name -> unit, per topic
		"telemetry/ecg":  "MDC_ECG_ELEC_POTL_II/mean mV",
		"telemetry/ppg":  "MDC_PULS_OXIM_PLETH_IR/mean 1",
		"telemetry/temp": "MDC_TEMP_BODY/mean Cel",
	}
	for topic, s := range streams {
		key := topic[strings.Index(topic, "telemetry/"):]
		w, ok := want[key]
		if !ok {
			t.Errorf("unexpected topic %s", topic)
			continue
		}
		name, unit, _ := strings.Cut(w, " ")
		found := false
		for _, e := range s.records {
			if e.Name == "urn:dev:sn:"+deviceID+":"+name {
				found = true
				if e.Unit != unit || e.Value == nil {
					t.Errorf("%s: %s has unit %q value %v, want unit %q and a value", topic, name, e.Unit, e.Value, unit)
				}
			}
		}
		if !found {
			t.Errorf("%s: no record %s", topic, name)
		}
	}
	var status []string
	for _, m := range mon.Messages() {
		if strings.HasSuffix(m.Topic, "/status") {
			status = append(status, string(m.Payload))
		}
	}
	if len(status) == 0 || status[0] != "online" || status[len(status)-1] != "offline" {
		t.Errorf("status messages %q, want online first and offline last", status)
	}
}

func minPacks(streams map[string]*streamLog) int {
	m := -1
	for _, s := range streams {
		if m < 0 || len(s.seqs) < m {
			m = len(s.seqs)
		}
	}
	return m
}

// (d) The broker goes away for 30 s and comes back: zero records lost,
// duplicates only within the in-flight window.
func TestBrokerOutageLosesNothing(t *testing.T) {
	t.Parallel()
	r := newRig(t, "tls://127.0.0.1:1")
	b := mosquittotest.StartWithOptions(t, r.pki, mosquittotest.Options{Persistence: true})
	r.writeConfig(t, b.URL)
	mon := mosquittotest.Subscribe(t, b, r.pki, "medagent/v1/#", mosquittotest.MonitorOptions{Persistent: "e2e-monitor"})
	p := r.start(t, agentBin)
	mon.WaitFor(t, 30*time.Second, "first packs", func(ms []mosquittotest.Message) bool {
		return minPacks(collect(t, ms)) >= 3
	})
	b.Stop()
	time.Sleep(30 * time.Second)
	if n, _ := r.pending(t); n < 3*25 {
		t.Errorf("spool holds %d records after a 30 s outage, want at least 75 (3 sensors at 1 Hz)", n)
	}
	b.Restart()
	mon.WaitFor(t, 60*time.Second, "the backlog", func(ms []mosquittotest.Message) bool {
		return minPacks(collect(t, ms)) >= 35
	})
	p.stop(t)
	r.drain(t)
	_, evicted := r.pending(t)
	if evicted != 0 {
		t.Errorf("spool evicted %d records", evicted)
	}
	mon.Sync(t, syncTopic) // the last PUBLISHes reach the monitor
	checkComplete(t, collect(t, mon.Messages()), 35, 32)
}

// (e) kill -9 of the agent mid-stream and a restart: zero records lost.
func TestKill9LosesNothing(t *testing.T) {
	t.Parallel()
	r := newRig(t, "tls://127.0.0.1:1")
	b := mosquittotest.Start(t, r.pki)
	r.writeConfig(t, b.URL)
	mon := mosquittotest.Subscribe(t, b, r.pki, "medagent/v1/#", mosquittotest.MonitorOptions{})
	p := r.start(t, agentBin)
	mon.WaitFor(t, 30*time.Second, "first packs", func(ms []mosquittotest.Message) bool {
		return minPacks(collect(t, ms)) >= 3
	})
	time.Sleep(1500 * time.Millisecond)
	p.kill(t)
	p = r.start(t, agentBin)
	mon.WaitFor(t, 30*time.Second, "packs after the restart", func(ms []mosquittotest.Message) bool {
		return minPacks(collect(t, ms)) >= 8
	})
	p.stop(t)
	r.drain(t)
	mon.Sync(t, syncTopic) // the last PUBLISHes reach the monitor
	checkComplete(t, collect(t, mon.Messages()), 8, 32)
}

// Broker unreachable at start: the agent runs, spools, and says so.
func TestBrokerUnreachableAtStartSpools(t *testing.T) {
	t.Parallel()
	r := newRig(t, "tls://127.0.0.1:1")
	p := r.start(t, agentBin)
	time.Sleep(4 * time.Second)
	p.stop(t)
	if n, _ := r.pending(t); n < 6 {
		t.Errorf("spool holds %d records after 4 s without a broker, want at least 6", n)
	}
	if !strings.Contains(p.log.String(), "127.0.0.1:1") {
		t.Errorf("agent log does not mention the unreachable broker:\n%s", p.log)
	}
}
