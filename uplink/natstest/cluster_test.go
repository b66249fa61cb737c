package natstest_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"medagent/tlsconf/tlstest"
	"medagent/uplink/natstest"
)

// TestClusterCarriesMQTT: a device publishes on one node, the back end
// reads on another, more messages than one subscriber may have unacked
// (the server's max_ack_pending, 1024 by default); a publish outside the
// device's own subtree is refused by its permissions.
func TestClusterCarriesMQTT(t *testing.T) {
	p, err := tlstest.WritePKI(filepath.Join(t.TempDir(), "pki"), "MA-0001")
	if err != nil {
		t.Fatal(err)
	}
	c := natstest.Start(t, p.Dir, natstest.Options{})
	mon := natstest.Subscribe(t, p.Dir, []string{c.Nodes[1].MQTTURL}, "mon", "medagent/v1/#")
	opts := mqtt.NewClientOptions().AddBroker(c.Nodes[0].MQTTURL).SetClientID("MA-0001").
		SetTLSConfig(natstest.ClientTLS(t, p.Dir, tlstest.DeviceCertFile, tlstest.DeviceKeyFile)).
		SetProtocolVersion(4).SetCleanSession(false)
	dev := mqtt.NewClient(opts)
	if tok := dev.Connect(); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("device connect: %v", tok.Error())
	}
	defer dev.Disconnect(100)
	const n = 1500
	var toks []mqtt.Token
	for i := range n {
		toks = append(toks, dev.Publish("medagent/v1/MA-0001/telemetry/x", 1, false, fmt.Sprint(i)))
	}
	for _, tok := range toks {
		if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	tok := dev.Publish("medagent/v1/MA-0002/telemetry/x", 1, false, "foreign")
	tok.WaitTimeout(5 * time.Second)
	// A marker after it on the device's own topic: the foreign message,
	// were it let through, would arrive before it (one publisher, in order).
	if tok := dev.Publish("medagent/v1/MA-0001/telemetry/x", 1, false, "marker"); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("publish marker: %v", tok.Error())
	}
	deadline := time.Now().Add(30 * time.Second)
	for !hasPayload(mon.Messages(), "marker") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	got := mon.Messages()
	if len(got) != n+1 {
		t.Errorf("monitor got %d messages, want %d and the marker", len(got), n)
	}
	for i, m := range got {
		want := fmt.Sprint(i)
		if i == n {
			want = "marker"
		}
		if m.Topic != "medagent/v1/MA-0001/telemetry/x" || string(m.Payload) != want {
			t.Fatalf("message %d: %s %q", i, m.Topic, m.Payload)
		}
	}
	if !strings.Contains(c.Nodes[0].Log(), `Publish Violation - Subject "medagent.v1.MA-0002.telemetry.x"`) {
		t.Error("the server did not log the refused publish to another device's subtree")
	}
}

func hasPayload(ms []natstest.Message, p string) bool {
	for _, m := range ms {
		if string(m.Payload) == p {
			return true
		}
	}
	return false
}
