package uplink_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"medagent/senml"
	"medagent/spool"
	"medagent/telemetry"
	"medagent/tlsconf"
	"medagent/tlsconf/tlstest"
	"medagent/uplink"
	"medagent/uplink/natstest"
)

// clusterOptions are the device's options for all nodes of c, with short
// timeouts for a test (the backoff shape is the default's, scaled down).
func clusterOptions(p *tlstest.PKI, c *natstest.Cluster) uplink.Options {
	return uplink.Options{
		Brokers:           c.URLs(),
		DeviceID:          p.DeviceID,
		TLS:               tlsconf.Options{CAFile: p.CA.CertFile, CertFile: p.Device.CertFile, KeyFile: p.Device.KeyFile},
		InFlight:          16,
		KeepAlive:         5 * time.Second,
		ConnectTimeout:    5 * time.Second,
		AckTimeout:        10 * time.Second,
		BackoffMin:        200 * time.Millisecond,
		BackoffMax:        5 * time.Second,
		BackoffResetAfter: 2 * time.Second,
		ProbeInterval:     time.Second,
	}
}

// producer stands for acquisition: it appends packs to the real spool on
// three streams of two classes at a steady rate, whatever the uplink does.
type producer struct {
	w      *spool.Writer
	mu     sync.Mutex
	counts map[string]uint64 // topic suffix (class/stream) -> records appended
	stop   context.CancelFunc
	wg     sync.WaitGroup
}

var producerStreams = []struct {
	class  telemetry.Class
	stream string
}{{telemetry.ClassTelemetry, "vitals"}, {telemetry.ClassTelemetry, "ecg"}, {telemetry.ClassAlarm, "hr"}}

// startProducer appends one pack every period, round robin over the streams.
func startProducer(t testing.TB, w *spool.Writer, period time.Duration) *producer {
	ctx, cancel := context.WithCancel(context.Background())
	p := &producer{w: w, counts: map[string]uint64{}, stop: cancel}
	p.wg.Go(func() {
		tick := time.NewTicker(period)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				p.add(t, i)
			}
		}
	})
	t.Cleanup(p.Stop)
	return p
}

func (p *producer) add(t testing.TB, i int) {
	s := producerStreams[i%len(producerStreams)]
	pk := vitals(i)
	if s.class == telemetry.ClassAlarm {
		pk = alarm(i)
	}
	pk.Class, pk.Stream = s.class, s.stream
	b, err := pk.Marshal()
	if err != nil {
		t.Error(err)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.w.Append(context.Background(), pk.Class, pk.Stream, pk.Time, b); err != nil {
		t.Errorf("spool append: %v", err)
		return
	}
	p.counts[s.class.Topic()+"/"+s.stream]++
}

// Backlog appends n packs at once.
func (p *producer) Backlog(t testing.TB, n int) {
	for i := range n {
		p.add(t, i)
	}
}

// Stop stops the producer and waits for it.
func (p *producer) Stop() {
	p.stop()
	p.wg.Wait()
}

// Total is the number of records appended.
func (p *producer) Total() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n uint64
	for _, c := range p.counts {
		n += c
	}
	return n
}

// delivery counts what checkDelivery saw.
type delivery struct {
	Resent      int // copies the device published again (a resend after a reconnect)
	Redelivered int // copies the broker delivered again to the subscriber (MQTT DUP flag)
}

// checkDelivery checks what the monitor received against what was
// produced. Per stream: every seq from 1 to the count arrived; the
// messages the broker delivered once (no DUP flag) come in seq order,
// except copies the device sent again, each within window of the highest
// seq seen before it. Messages with the DUP flag are the broker's own
// redeliveries to the subscriber (after the node holding its delivery
// state died) and may come at any time: they are counted, not judged,
// since they say nothing about the device.
func checkDelivery(t *testing.T, device string, prod *producer, msgs []natstest.Message, window int) delivery {
	t.Helper()
	prod.mu.Lock()
	counts := map[string]uint64{}
	for k, v := range prod.counts {
		counts[k] = v
	}
	prod.mu.Unlock()
	type state struct {
		high uint64
		seen map[uint64]bool
	}
	streams := map[string]*state{}
	var d delivery
	prefix := "medagent/v1/" + device + "/"
	for i, m := range msgs {
		if len(m.Topic) <= len(prefix) || m.Topic[:len(prefix)] != prefix {
			continue // another device's
		}
		key := m.Topic[len(prefix):]
		if key == "status" {
			continue
		}
		r, err := senml.Decode(m.Payload, senml.JSON)
		if err != nil || !r.HasSeq {
			t.Fatalf("message %d on %s: not SenML with a seq: %v", i, m.Topic, err)
		}
		s := streams[key]
		if s == nil {
			s = &state{seen: map[uint64]bool{}}
			streams[key] = s
		}
		switch {
		case m.Dup:
			d.Redelivered++
		case s.seen[r.Seq] || r.Seq <= s.high:
			d.Resent++
			if s.high-r.Seq >= uint64(window) {
				t.Errorf("%s: seq %d again after %d: a resend beyond the in-flight window (%d)", key, r.Seq, s.high, window)
			}
		case r.Seq > s.high+1:
			// Allowed only if the broker redelivers the ones between.
		}
		s.seen[r.Seq] = true
		if !m.Dup {
			s.high = max(s.high, r.Seq)
		}
	}
	for key, n := range counts {
		s := streams[key]
		if s == nil {
			t.Errorf("%s: %d records produced, none received", key, n)
			continue
		}
		missing := 0
		var ranges []string
		for q := uint64(1); q <= n; q++ {
			if !s.seen[q] {
				if missing == 0 || s.seen[q-1] {
					ranges = append(ranges, fmt.Sprint(q))
				}
				missing++
			} else if q > 1 && !s.seen[q-1] && len(ranges) > 0 {
				ranges[len(ranges)-1] += fmt.Sprint("-", q-1)
			}
		}
		if missing > 0 || s.high != n {
			t.Errorf("%s: %d of %d records missing (highest seq %d): %v", key, missing, n, s.high, ranges)
		}
	}
	return d
}

// waitMonitor waits until the monitor has every produced record.
func waitMonitor(t *testing.T, mon *natstest.Monitor, device string, prod *producer, timeout time.Duration) []natstest.Message {
	t.Helper()
	want := prod.Total()
	deadline := time.Now().Add(timeout)
	for {
		msgs := mon.Messages()
		distinct := map[string]bool{}
		for _, m := range msgs {
			if r, err := senml.Decode(m.Payload, senml.JSON); err == nil && r.HasSeq {
				distinct[fmt.Sprint(m.Topic, r.Seq)] = true
			}
		}
		if uint64(len(distinct)) >= want {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Errorf("monitor has %d of %d records after %v", len(distinct), want, timeout)
			return msgs
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
