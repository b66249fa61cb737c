package mosquittotest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"medagent/tlsconf/tlstest"
)

// Message is one message a Monitor received.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// Monitor is a subscriber with the monitor identity of the PKI (read
// access to medagent/v1/#) that records every message it receives.
type Monitor struct {
	mu    sync.Mutex
	msgs  []Message
	wake  chan struct{}
	c     mqtt.Client
	syncs int // markers sent by Sync
}

// MonitorOptions tune Subscribe.
type MonitorOptions struct {
	// Persistent uses a persistent session (clean session off) with this
	// client id, so that with a broker started with Persistence the monitor
	// misses nothing across a broker restart. It reconnects by itself.
	Persistent string
}

// Subscribe connects a Monitor to b at QoS 1 on filter (e.g. "medagent/v1/#").
func Subscribe(t testing.TB, b *Broker, pkiDir, filter string, o MonitorOptions) *Monitor {
	t.Helper()
	cfg := ClientTLS(t, pkiDir, tlstest.MonitorCertFile, tlstest.MonitorKeyFile)
	m := &Monitor{wake: make(chan struct{})}
	id := o.Persistent
	if id == "" {
		id = "monitor-" + time.Now().Format("150405.000000000")
	}
	handler := func(_ mqtt.Client, msg mqtt.Message) {
		m.mu.Lock()
		m.msgs = append(m.msgs, Message{msg.Topic(), append([]byte(nil), msg.Payload()...), msg.Retained()})
		close(m.wake)
		m.wake = make(chan struct{})
		m.mu.Unlock()
	}
	opts := mqtt.NewClientOptions().AddBroker(b.URL).SetClientID(id).SetTLSConfig(cfg).
		SetProtocolVersion(4).SetCleanSession(o.Persistent == "").
		SetAutoReconnect(o.Persistent != "").SetMaxReconnectInterval(200 * time.Millisecond).
		SetConnectTimeout(5 * time.Second).SetOrderMatters(true).
		SetDefaultPublishHandler(handler)
	if o.Persistent != "" {
		// Resubscribing is harmless and covers a broker that lost the session.
		opts.SetOnConnectHandler(func(c mqtt.Client) { c.Subscribe(filter, 1, nil) })
	}
	m.c = mqtt.NewClient(opts)
	if tok := m.c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("mosquittotest: monitor connect: %v", tok.Error())
	}
	if tok := m.c.Subscribe(filter, 1, nil); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("mosquittotest: monitor subscribe %s: %v", filter, tok.Error())
	}
	t.Cleanup(func() { m.c.Disconnect(100) })
	return m
}

// Messages returns a copy of what arrived so far, in arrival order.
func (m *Monitor) Messages() []Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Message(nil), m.msgs...)
}

// Sync returns once every message the broker accepted before the call
// has reached the monitor: it publishes a marker on topic (which the
// monitor's filter must match) and waits for it. mosquitto queues a
// message to its subscribers when it accepts it, in one thread, so the
// marker comes after whatever it acknowledged before. The marker stays
// in Messages; it carries the payload "mosquittotest sync N".
func (m *Monitor) Sync(t testing.TB, topic string) {
	t.Helper()
	m.mu.Lock()
	m.syncs++
	marker := fmt.Sprintf("mosquittotest sync %d", m.syncs)
	m.mu.Unlock()
	m.Publish(t, topic, []byte(marker))
	m.WaitFor(t, 30*time.Second, "sync marker on "+topic, func(ms []Message) bool {
		for _, msg := range ms {
			if msg.Topic == topic && string(msg.Payload) == marker {
				return true
			}
		}
		return false
	})
}

// WaitUntil waits up to timeout for done(messages so far) and reports
// whether it came; unlike WaitFor, running out of time is no failure.
func (m *Monitor) WaitUntil(timeout time.Duration, done func([]Message) bool) bool {
	_, ok := m.wait(timeout, done)
	return ok
}

// WaitFor waits until done(messages so far) is true, or fails the test
// after timeout saying what it waited for.
func (m *Monitor) WaitFor(t testing.TB, timeout time.Duration, what string, done func([]Message) bool) []Message {
	t.Helper()
	msgs, ok := m.wait(timeout, done)
	if !ok {
		t.Fatalf("mosquittotest: monitor: no %s after %v (%d messages received)", what, timeout, len(msgs))
	}
	return msgs
}

func (m *Monitor) wait(timeout time.Duration, done func([]Message) bool) ([]Message, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		m.mu.Lock()
		msgs, wake := append([]Message(nil), m.msgs...), m.wake
		m.mu.Unlock()
		if done(msgs) {
			return msgs, true
		}
		select {
		case <-wake:
		case <-deadline.C:
			return msgs, false
		}
	}
}

// ClientTLS returns a client TLS configuration trusting the PKI's CA and
// presenting certFile/keyFile from pkiDir (both "" for no certificate).
func ClientTLS(t testing.TB, pkiDir, certFile, keyFile string) *tls.Config {
	t.Helper()
	caPEM, err := os.ReadFile(filepath.Join(pkiDir, tlstest.CAFile))
	if err != nil {
		t.Fatalf("mosquittotest: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("mosquittotest: no certificate in %s", tlstest.CAFile)
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(filepath.Join(pkiDir, certFile), filepath.Join(pkiDir, keyFile))
		if err != nil {
			t.Fatalf("mosquittotest: %v", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg
}

// Publish sends payload on topic at QoS 1 as the monitor (the back end's
// identity: it may write commands) and waits for the PUBACK.
func (m *Monitor) Publish(t testing.TB, topic string, payload []byte) {
	t.Helper()
	tok := m.c.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}
