package uplink_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"medagent/senml"
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

// TestHungBroker: when the route goes silent (bytes vanish, TCP stays up),
// nothing is acked without its PUBACK; the uplink gives up on the
// connection after AckTimeout, keeps retrying, and delivers once the route
// is back.
func TestHungBroker(t *testing.T) {
	p := writePKI(t)
	b := mosquittotest.Start(t, p.Dir)
	px := mosquittotest.NewProxy(t, b)
	mon := mosquittotest.Subscribe(t, b, p.Dir, "medagent/v1/#", mosquittotest.MonitorOptions{})
	const topic = "medagent/v1/" + device + "/telemetry/vitals"

	src := uplinktest.NewSource()
	src.Append(vitals(0))
	o := options(p, b)
	o.Broker = px.URL
	o.AckTimeout = 500 * time.Millisecond
	o.ConnectTimeout = 500 * time.Millisecond
	u, err := uplink.New(o, src, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	run(t, u)
	waitAcked(t, src, 1, 10*time.Second)

	px.Freeze()
	for i := 1; i <= 3; i++ {
		src.Append(vitals(i))
	}
	// The PUBACK wait times out first; then connects through the dead
	// route time out (the third attempt starts after the second failed).
	waitFor(t, "the ack timeout and a connect through the dead route timed out", 10*time.Second, func() bool {
		st := u.Status()
		return !st.Connected && st.LastError != nil && st.Attempts >= 3
	})
	if s := src.Stats(); s.Acked != 1 {
		t.Fatalf("%d records acked while the broker was unreachable, want 1", s.Acked)
	}
	st := u.Status()
	if st.LastError == nil || !strings.Contains(st.LastError.Error(), "timed out") && !strings.Contains(st.LastError.Error(), "deadline exceeded") {
		t.Errorf("LastError = %v, want a timeout", st.LastError)
	}
	if st.InFlight != 0 && st.Connected {
		t.Errorf("Status = %+v: still connected with records in flight after the ack timeout", st)
	}
	if n := len(onTopic(mon.Messages(), topic)); n != 1 {
		t.Errorf("%d packs reached the broker through the frozen route, want 1", n)
	}

	px.Thaw()
	waitAcked(t, src, 4, 10*time.Second)
	msgs := mon.WaitFor(t, 5*time.Second, "all 4 packs", countOn(topic, 4))
	if s := seqs(t, onTopic(msgs, topic), senml.JSON); !slices.Equal(s, []uint64{1, 2, 3, 4}) {
		t.Errorf("seqs = %v", s)
	}
}
