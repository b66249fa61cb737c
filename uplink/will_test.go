package uplink_test

import (
	"slices"
	"testing"
	"time"

	"medagent/uplink"
	"medagent/uplink/mosquittotest"
	"medagent/uplink/uplinktest"
)

// TestLastWillAndReconnect cuts the device's TCP connection without any
// MQTT goodbye: the broker must publish the retained "offline" will, and
// the uplink must reconnect, say "online" again and go on delivering.
func TestLastWillAndReconnect(t *testing.T) {
	p := writePKI(t)
	b := mosquittotest.Start(t, p.Dir)
	px := mosquittotest.NewProxy(t, b)
	mon := mosquittotest.Subscribe(t, b, p.Dir, "medagent/v1/#", mosquittotest.MonitorOptions{})
	const status = "medagent/v1/" + device + "/status"
	const topic = "medagent/v1/" + device + "/telemetry/vitals"
	statuses := func(m []mosquittotest.Message) []string {
		var s []string
		for _, x := range onTopic(m, status) {
			s = append(s, string(x.Payload))
		}
		return s
	}

	src := uplinktest.NewSource()
	src.Append(vitals(0))
	o := options(p, b)
	o.Broker = px.URL
	u, err := uplink.New(o, src, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, u)
	waitAcked(t, src, 1, 10*time.Second)
	mon.WaitFor(t, 5*time.Second, "online", func(m []mosquittotest.Message) bool { return len(statuses(m)) == 1 })

	px.Cut()
	mon.WaitFor(t, 10*time.Second, "the offline will and online again", func(m []mosquittotest.Message) bool {
		s := statuses(m)
		return len(s) >= 3 && s[1] == "offline" && s[2] == "online"
	})
	src.Append(vitals(1))
	waitAcked(t, src, 2, 10*time.Second)
	mon.WaitFor(t, 5*time.Second, "the pack after the reconnect", countOn(topic, 2))
	if st := u.Status(); st.Connects != 2 || st.LastError == nil {
		t.Errorf("Status = %+v, want 2 connects and the lost connection as last error", st)
	}
	stop()
	s := statuses(mon.WaitFor(t, 5*time.Second, "offline at shutdown", func(m []mosquittotest.Message) bool {
		s := statuses(m)
		return len(s) >= 4
	}))
	if want := []string{"online", "offline", "online", "offline"}; !slices.Equal(s, want) {
		t.Errorf("status sequence = %q, want %q", s, want)
	}
}
