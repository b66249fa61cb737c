package uplink

import (
	"log/slog"
	"testing"
	"time"

	"medagent/uplink/uplinktest"
)

// TestClientOptions pins the MQTT session settings the delivery guarantees
// rely on, including the retained "offline" last will (which
// TestLastWillAndReconnect also exercises with mosquitto), and the
// persistent session (clean session off) a cluster failover relies on.
func TestClientOptions(t *testing.T) {
	p := devPKI(t)
	u, err := New(devOptions(p, "tls://127.0.0.1:8883"), uplinktest.NewSource(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	o := u.clientOptions(t.Context(), "tls://127.0.0.1:8883", func() {}, nil)
	if !o.WillEnabled || o.WillTopic != "medagent/v1/MA-0001/status" || string(o.WillPayload) != "offline" || !o.WillRetained || o.WillQos != 1 {
		t.Errorf("will = %v %q %q retained=%v qos=%d", o.WillEnabled, o.WillTopic, o.WillPayload, o.WillRetained, o.WillQos)
	}
	if o.ClientID != "MA-0001" || o.ProtocolVersion != 4 || o.CleanSession || o.AutoReconnect || o.ConnectRetry {
		t.Errorf("session options = id %q v%d clean=%v auto=%v retry=%v", o.ClientID, o.ProtocolVersion, o.CleanSession, o.AutoReconnect, o.ConnectRetry)
	}
	if o.CustomOpenConnectionFn == nil {
		t.Error("no connection function: TLS and the packet-size guard would be bypassed")
	}
	if o.KeepAlive != int64(30*time.Second/time.Second) {
		t.Errorf("keepalive = %d s", o.KeepAlive)
	}
	// The client's deadline covers dial, TLS and the CONNACK; the opener
	// bounds dial and TLS by ConnectTimeout alone.
	if o.ConnectTimeout != 40*time.Second {
		t.Errorf("connect deadline = %v, want connect_timeout 10s + connack_timeout 30s", o.ConnectTimeout)
	}
}
