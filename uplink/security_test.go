package uplink_test

import (
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"medagent/tlsconf/tlstest"
	"medagent/uplink"
	"medagent/uplink/mosquittotest"
	"medagent/uplink/uplinktest"
)

// TestBrokerFromOtherCARefused: the device trusts only its pinned CA, so a
// broker whose certificate comes from another CA gets no connection and no
// data, and the spool sees no acks.
func TestBrokerFromOtherCARefused(t *testing.T) {
	p := writePKI(t)
	b := mosquittotest.Start(t, p.Dir)
	mon := mosquittotest.Subscribe(t, b, p.Dir, "medagent/v1/#", mosquittotest.MonitorOptions{})
	other := writePKI(t) // a different CA with its own broker

	src := uplinktest.NewSource()
	for i := range 10 {
		src.Append(vitals(i))
	}
	o := options(p, b)
	o.TLS.CAFile = other.CA.CertFile // pins the wrong CA for this broker
	u, err := uplink.New(o, src, discard)
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, u)
	// Several refused attempts (backoff max 200 ms).
	waitFor(t, "three refused connects", 10*time.Second, func() bool {
		st := u.Status()
		return st.LastError != nil && st.Attempts >= 3
	})
	stop()

	st := u.Status()
	if st.LastError == nil || !strings.Contains(st.LastError.Error(), "certificate signed by unknown authority") {
		t.Errorf("LastError = %v, want an unknown-authority error", st.LastError)
	}
	if st.Connects != 0 || st.Published != 0 || st.Acked != 0 {
		t.Errorf("Status = %+v, want nothing connected or sent", st)
	}
	if s := src.Stats(); s.Acked != 0 || s.MaxOutstanding != 0 {
		t.Errorf("source stats = %+v, want no reads and no acks", s)
	}
	if m := mon.Messages(); len(m) != 0 {
		t.Errorf("monitor received %d messages, want none", len(m))
	}
	if !strings.Contains(b.Log(), "New connection from 127.0.0.1") {
		t.Error("the broker never saw a connection attempt: the test did not exercise TLS")
	}
}

// TestClientWithoutCertificateRefused: mosquitto requires a client
// certificate; a TLS client without one cannot connect.
func TestClientWithoutCertificateRefused(t *testing.T) {
	p := writePKI(t)
	b := mosquittotest.Start(t, p.Dir)
	mon := mosquittotest.Subscribe(t, b, p.Dir, "medagent/v1/#", mosquittotest.MonitorOptions{})

	for _, c := range []struct {
		name       string
		cert, key  string
		wantRefuse bool
	}{
		{"no certificate", "", "", true},
		{"device certificate", tlstest.DeviceCertFile, tlstest.DeviceKeyFile, false}, // control: the same client with a cert connects
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := mosquittotest.ClientTLS(t, p.Dir, c.cert, c.key)
			cl := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL).SetClientID("nocert-" + c.cert).
				SetTLSConfig(cfg).SetProtocolVersion(4).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second))
			tok := cl.Connect()
			if !tok.WaitTimeout(10 * time.Second) {
				t.Fatal("connect did not finish")
			}
			err := tok.Error()
			if c.wantRefuse && err == nil {
				cl.Publish("medagent/v1/"+device+"/telemetry/x", 1, false, "sneaky").WaitTimeout(2 * time.Second)
				cl.Disconnect(0)
				t.Fatal("connected without a client certificate")
			}
			if !c.wantRefuse && err != nil {
				t.Fatalf("control connect failed: %v", err)
			}
			if err == nil {
				cl.Disconnect(0)
			}
		})
	}
	if m := onTopic(mon.Messages(), "medagent/v1/"+device+"/telemetry/x"); len(m) != 0 {
		t.Errorf("monitor received %d messages from the client without certificate", len(m))
	}
}

// TestPublishOutsideACLNotDelivered: a device may write only under its own
// id. A publish to another device's topic is dropped by the broker; a
// marker published after it on the device's own topic shows the monitor
// was listening.
func TestPublishOutsideACLNotDelivered(t *testing.T) {
	p := writePKI(t)
	b := mosquittotest.Start(t, p.Dir)
	mon := mosquittotest.Subscribe(t, b, p.Dir, "medagent/v1/#", mosquittotest.MonitorOptions{})

	cfg := mosquittotest.ClientTLS(t, p.Dir, tlstest.DeviceCertFile, tlstest.DeviceKeyFile)
	cl := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL).SetClientID(device).
		SetTLSConfig(cfg).SetProtocolVersion(4).SetAutoReconnect(false))
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer cl.Disconnect(0)
	forbidden := []string{
		"medagent/v1/MA-0002/telemetry/vitals",
		"medagent/v1/MA-0002/status",
		"medagent/v2/" + device + "/telemetry/vitals",
		"other/topic",
	}
	for _, topic := range forbidden {
		// MQTT 3.1.1 has no way to refuse a PUBLISH: the broker acks and drops it.
		if tok := cl.Publish(topic, 1, false, "forged"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", topic, tok.Error())
		}
	}
	marker := "medagent/v1/" + device + "/events/marker"
	if tok := cl.Publish(marker, 1, false, "ok"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish marker: %v", tok.Error())
	}
	mon.WaitFor(t, 5*time.Second, "marker", countOn(marker, 1))
	// Whatever the broker let through was routed before it took the
	// monitor's own marker.
	const syncTopic = "medagent/v1/uplink-test-sync/cmd/sync"
	mon.Sync(t, syncTopic)
	for _, m := range mon.Messages() {
		if m.Topic != marker && m.Topic != syncTopic {
			t.Errorf("delivered outside the device's ACL: %s %q", m.Topic, m.Payload)
		}
	}
}
