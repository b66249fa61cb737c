package uplink_test

import (
	"context"
	"testing"
	"time"

	"medagent/uplink"
	"medagent/uplink/natstest"
)

// The cluster tests run in parallel with each other (each has its own
// cluster, ports, PKI and spool). The two-minute full outage is in
// cluster_long_test.go (make test-long, which .ci/run runs).

// TestClusterFailover runs the uplink against a real three-node NATS
// cluster (JetStream, MQTT listeners, mutual TLS with the certificate
// mapped to a per-device user). While acquisition appends to the real
// spool, the test kills the node the device is on, then a second node
// (which leaves JetStream without a quorum), then starts both again. A
// back-end subscriber on the third node must see every record of every
// stream, in order, with duplicates only from the in-flight window.
func TestClusterFailover(t *testing.T) {
	t.Parallel()
	p := writePKI(t)
	c := natstest.Start(t, p.Dir, natstest.Options{})
	// The back end listens on a node that is not the device's first
	// choice, and that this test never kills.
	order := uplink.BrokerOrder(c.URLs(), p.DeviceID)
	monNode := c.Node(order[len(order)-1])
	mon := natstest.Subscribe(t, p.Dir, []string{monNode.MQTTURL}, "backend", "medagent/v1/#")

	w, r := openSpool(t)
	o := clusterOptions(p, c)
	u, err := uplink.New(o, r, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	prod := startProducer(t, w, 20*time.Millisecond) // 50 packs/s
	stopRun := run(t, u)
	waitFor(t, "first connect", 30*time.Second, func() bool { return u.Status().Connected })
	first := c.Node(u.Status().Broker)
	if first == monNode {
		t.Fatalf("device connected to %s, the back end's node, first", first.Name)
	}
	waitFor(t, "records acked", 30*time.Second, func() bool { return u.Status().Acked > 100 })

	t.Logf("kill %s, the node the device is on, at %d acked", first.Name, u.Status().Acked)
	first.Kill()
	acked := u.Status().Acked
	waitFor(t, "failover", 60*time.Second, func() bool {
		st := u.Status()
		return st.Connected && st.Broker != first.MQTTURL && st.Acked > acked+50
	})
	second := c.Node(u.Status().Broker)
	if second == monNode {
		for _, n := range c.Nodes {
			if n != first && n != monNode {
				second = n
			}
		}
	}
	t.Logf("device on %s; kill %s too at %d acked: one node left, no JetStream quorum", u.Status().Broker, second.Name, u.Status().Acked)
	second.Kill()
	time.Sleep(5 * time.Second)

	t.Logf("restart %s and %s", first.Name, second.Name)
	first.Restart()
	second.Restart()
	c.WaitHealthy(t, 60*time.Second)
	acked = u.Status().Acked
	t.Logf("cluster healthy at %d acked", acked)
	waitFor(t, "delivery after the restart", 90*time.Second, func() bool { return u.Status().Acked > acked+100 })
	prod.Stop()
	total := prod.Total()
	waitFor(t, "backlog acked", 90*time.Second, func() bool { return u.Status().Acked >= total })
	msgs := waitMonitor(t, mon, p.DeviceID, prod, 60*time.Second)
	stopRun()

	st := u.Status()
	d := checkDelivery(t, p.DeviceID, prod, msgs, o.InFlight)
	t.Logf("%d records, %d messages at the back end: %d resent by the device, %d redelivered by the broker; %d connects in %d attempts",
		total, len(msgs), d.Resent, d.Redelivered, st.Connects, st.Attempts)
	if st.Connects < 3 {
		t.Errorf("%d connects: the device did not fail over twice", st.Connects)
	}
	if d.Resent > o.InFlight*int(st.Connects) {
		t.Errorf("%d records resent over %d connects with a window of %d", d.Resent, st.Connects, o.InFlight)
	}
}

// TestClusterNodeDownAtStart: the first node in the device's own order
// does not answer when the device starts; it connects to the next one.
func TestClusterNodeDownAtStart(t *testing.T) {
	t.Parallel()
	p := writePKI(t)
	c := natstest.Start(t, p.Dir, natstest.Options{})
	firstChoice := c.Node(uplink.BrokerOrder(c.URLs(), p.DeviceID)[0])
	var up []string
	for _, n := range c.Nodes {
		if n != firstChoice {
			up = append(up, n.MQTTURL)
		}
	}
	// The back end has used the cluster before (which creates the MQTT
	// streams on all three nodes): then a node goes down.
	mon := natstest.Subscribe(t, p.Dir, up, "backend", "medagent/v1/#")
	firstChoice.Kill()
	w, r := openSpool(t)
	prod := startProducer(t, w, 20*time.Millisecond)
	o := clusterOptions(p, c)
	u, err := uplink.New(o, r, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	run(t, u)
	waitFor(t, "connect", 30*time.Second, func() bool { return u.Status().Connected })
	st := u.Status()
	t.Logf("connected to %s %v after start, attempt %d (%s down)", st.Broker, time.Since(start).Round(time.Millisecond), st.Attempts, firstChoice.Name)
	if st.Broker == firstChoice.MQTTURL || st.Attempts < 2 {
		t.Errorf("connected to %s on attempt %d, want the next node after %s", st.Broker, st.Attempts, firstChoice.MQTTURL)
	}
	waitFor(t, "records acked", 30*time.Second, func() bool { return u.Status().Acked > 50 })
	prod.Stop()
	total := prod.Total()
	waitFor(t, "all acked", 30*time.Second, func() bool { return u.Status().Acked >= total })
	checkDelivery(t, p.DeviceID, prod, waitMonitor(t, mon, p.DeviceID, prod, 30*time.Second), o.InFlight)
}

// TestClusterCommandAcrossFailover: the session is persistent, so a QoS 1
// command the back end sends while the device's node is dead and the
// device not yet back is kept by the cluster and delivered when the
// device reconnects, to another node.
func TestClusterCommandAcrossFailover(t *testing.T) {
	t.Parallel()
	p := writePKI(t)
	c := natstest.Start(t, p.Dir, natstest.Options{})
	order := uplink.BrokerOrder(c.URLs(), p.DeviceID)
	backNode := c.Node(order[len(order)-1])
	back := natstest.Subscribe(t, p.Dir, []string{backNode.MQTTURL}, "backend", "medagent/v1/+/cmd-result")
	_, r := openSpool(t)
	o := clusterOptions(p, c)
	got := make(chan string, 4)
	o.Commands = func(_ context.Context, payload []byte) []byte {
		got <- string(payload)
		return []byte(`{"ok":true}`)
	}
	u, err := uplink.New(o, r, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	run(t, u)
	waitFor(t, "connect", 30*time.Second, func() bool { return u.Status().Connected })
	first := c.Node(u.Status().Broker)
	if first == backNode {
		t.Fatalf("device on the back end's node %s", first.Name)
	}
	// A first command, sent until it arrives (the subscription follows
	// the connect), makes sure the subscription is in place.
	deadline := time.Now().Add(30 * time.Second)
hello:
	for {
		if err := back.Publish("medagent/v1/"+p.DeviceID+"/cmd/diagnostics", []byte(`{"cmd":"hello"}`)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-got:
			break hello
		case <-time.After(time.Second):
		}
		if time.Now().After(deadline) {
			t.Fatal("the first command did not arrive")
		}
	}
	for len(got) > 0 {
		<-got
	}
	first.Kill()
	waitFor(t, "device sees the loss", 30*time.Second, func() bool { return !u.Status().Connected })
	if err := back.Publish("medagent/v1/"+p.DeviceID+"/cmd/diagnostics", []byte(`{"cmd":"sent while away"}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case cmd := <-got:
		if cmd != `{"cmd":"sent while away"}` {
			t.Errorf("command %q", cmd)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the command sent while the device was away never arrived (device on %s, connected %v)", u.Status().Broker, u.Status().Connected)
	}
	if st := u.Status(); st.Broker == first.MQTTURL {
		t.Errorf("command arrived through the killed node %s", first.Name)
	}
	waitFor(t, "both results at the back end", 30*time.Second, func() bool { return len(back.Messages()) >= 2 })
}
