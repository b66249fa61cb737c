package agent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"medagent/acquire/simbench"
	"medagent/handoff"
	"medagent/senml"
	"medagent/trust/keyring"
	"medagent/uplink/mosquittotest"
)

// Monitoring never stops for security state. The agent (role all) starts
// on a board whose clock says 1970, so the device certificate is not yet
// valid: vitals are spooled and the alarm of a fast heart rate raised, the
// uplink waits and says why (status, the hand-off, a technical event).
// Once the clock is right, everything spooled arrives, in order, no gaps.
func TestNotYetValidCertificateKeepsMonitoring(t *testing.T) {
	cfg := testConfig(t)
	b := mosquittotest.Start(t, dirOf(cfg.MQTT.CAFile))
	cfg.MQTT.Broker, cfg.MQTT.ServerName = b.URL, "localhost"
	cfg.MQTT.BackoffMin, cfg.MQTT.BackoffMax = 200*time.Millisecond, time.Second
	cfg.Update.Enabled = false
	cfg.Sim.HeartRate = 165 // above 150: a high-priority alarm
	mon := mosquittotest.Subscribe(t, b, dirOf(cfg.MQTT.CAFile), "medagent/v1/#", mosquittotest.MonitorOptions{})
	var right atomic.Bool
	start := time.Now()
	clock := func() time.Time {
		if right.Load() {
			return time.Now()
		}
		return time.Unix(0, 0).Add(time.Since(start)) // no RTC: 1970 from boot
	}
	// As shipped: signed commands on (the hand-off carries the uplink's
	// state to acquire).
	cfg.Commands.Enabled = true
	cfg.Commands.Keyring, cfg.Commands.NonceFile = cfg.Handoff.Dir+"-keyring.json", cfg.Handoff.Dir+"-nonces.json"
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if _, err := keyring.Create(cfg.Commands.Keyring, []keyring.Key{{ID: "ops", PublicKey: der}}, []keyring.Key{{ID: "rel", PublicKey: der}}); err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{Config: cfg, Role: RoleAll, Logger: quiet, Now: clock, Bench: simbench.New})
	if err != nil {
		t.Fatalf("New with a certificate not valid at the clock: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stop := sync.OnceFunc(func() { cancel(); <-done })
	defer stop()

	deadline := time.Now().Add(60 * time.Second)
	for len(a.acq.acq.Alarms()) == 0 || pending(a) < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s: %d alarms, %d records spooled", len(a.acq.acq.Alarms()), pending(a))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := len(mon.Messages()); n != 0 {
		t.Fatalf("%d messages published with a certificate not valid at the clock", n)
	}
	sec := strings.Join(a.security(), "; ")
	if !strings.Contains(sec, "not valid before") {
		t.Errorf("status security %q does not say why the uplink waits", sec)
	}
	if st := a.up.up.Status(); st.Connects != 0 || !strings.Contains(st.Waiting, "not valid before") {
		t.Errorf("uplink status %+v", st)
	}
	b2, _ := os.ReadFile(cfg.Handoff.Dir + "/uplink.status")
	if us, err := handoff.DecodeUplinkStatus(b2); err != nil || !strings.Contains(us.Security, "not valid before") {
		t.Errorf("uplink.status %+v, %v", us, err)
	}

	right.Store(true)
	mon.WaitFor(t, 60*time.Second, "the backlog", func(ms []mosquittotest.Message) bool {
		return pending(a) < 10 && hasTopic(ms, "/events/uplink") && hasTopic(ms, "/alarms/")
	})
	stop()
	const sync = "medagent/v1/sync-marker/cmd/sync" // the monitor may write commands only
	mon.Sync(t, sync)                               // everything the broker took before the stop has arrived
	seqs := map[string][]uint64{}
	for _, m := range mon.Messages() {
		if strings.HasSuffix(m.Topic, "/status") || strings.HasSuffix(m.Topic, "/cmd-result") || m.Topic == sync {
			continue
		}
		r, err := senml.Decode(m.Payload, senml.JSON)
		if err != nil {
			t.Fatalf("%s: %v", m.Topic, err)
		}
		seqs[m.Topic] = append(seqs[m.Topic], r.Seq)
		// Every sensor here is a simulator: every record of theirs says so.
		if strings.Contains(m.Topic, "/telemetry/") || strings.Contains(m.Topic, "/alarms/") {
			for _, e := range r.Records {
				if !e.Simulated {
					t.Fatalf("%s: record %s not marked simulated", m.Topic, e.Name)
				}
			}
		}
	}
	for _, topic := range []string{"/telemetry/ecg", "/telemetry/ppg", "/telemetry/temp"} {
		if len(seqs["medagent/v1/MA-T"+topic]) == 0 {
			t.Errorf("nothing on %s", topic)
		}
	}
	for topic, s := range seqs {
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		s = compact(s)
		if s[0] != 1 || s[len(s)-1] != uint64(len(s)) {
			t.Errorf("%s: seq %d..%d with %d distinct: records missing", topic, s[0], s[len(s)-1], len(s))
		}
	}
	if !strings.Contains(eventText(t, mon.Messages(), "/events/uplink"), "not valid before") {
		t.Error("the technical event does not say why the uplink waited")
	}
}

func dirOf(p string) string { return p[:strings.LastIndex(p, "/")] }

func pending(a *Agent) uint64 {
	var n uint64
	for _, c := range a.acq.spool.Stats().Classes {
		n += c.Pending
	}
	return n
}

func hasTopic(ms []mosquittotest.Message, part string) bool {
	for _, m := range ms {
		if strings.Contains(m.Topic, part) {
			return true
		}
	}
	return false
}

func compact(s []uint64) []uint64 {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// eventText joins the string values published on topics containing part.
func eventText(t *testing.T, ms []mosquittotest.Message, part string) string {
	var b strings.Builder
	for _, m := range ms {
		if !strings.Contains(m.Topic, part) {
			continue
		}
		r, err := senml.Decode(m.Payload, senml.JSON)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range r.Records {
			if e.String != nil {
				b.WriteString(*e.String + " ")
			}
		}
	}
	return b.String()
}

// A corrupt keyring and nonce store never stop the agent: it starts,
// monitors, refuses commands with the reason and says so in status.
func TestCorruptTrustStoreKeepsMonitoring(t *testing.T) {
	cfg := testConfig(t)
	cfg.Commands.Enabled = true
	cfg.Commands.Keyring = cfg.Handoff.Dir + "-keyring.json"
	cfg.Commands.NonceFile = cfg.Handoff.Dir + "-nonces.json"
	os.WriteFile(cfg.Commands.Keyring, []byte(`{"format":1,"command_keys":[`), 0o600)
	os.WriteFile(cfg.Commands.NonceFile, []byte("\x00\x01garbage"), 0o600)
	a, err := New(Options{Config: cfg, Role: RoleAcquire, Logger: quiet, Bench: simbench.New})
	if err != nil {
		t.Fatalf("New with a corrupt keyring: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(30 * time.Second)
	for pending(a) < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("%d records spooled in 30 s", pending(a))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if sec := strings.Join(a.security(), "; "); !strings.Contains(sec, "signed commands refused") || !strings.Contains(sec, "keyring") {
		t.Errorf("status security %q", sec)
	}
}
