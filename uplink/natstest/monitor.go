package natstest

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
	Topic   string
	Payload []byte
	At      time.Time
	// Dup is the MQTT DUP flag: the broker delivers this message to the
	// subscriber again (its first delivery was not acknowledged in time).
	Dup bool
}

// Monitor is the back end's subscriber (the PKI's monitor identity): a
// persistent MQTT session at QoS 1 that fails over between the given URLs
// by itself and records every message it receives, duplicates included.
type Monitor struct {
	mu       sync.Mutex
	msgs     []Message
	connects int
	c        mqtt.Client
}

// Subscribe connects a Monitor with client id id to urls (tried in order)
// and subscribes to filter.
func Subscribe(t testing.TB, pkiDir string, urls []string, id, filter string) *Monitor {
	t.Helper()
	m := &Monitor{}
	handler := func(_ mqtt.Client, msg mqtt.Message) {
		m.mu.Lock()
		m.msgs = append(m.msgs, Message{msg.Topic(), append([]byte(nil), msg.Payload()...), time.Now(), msg.Duplicate()})
		m.mu.Unlock()
	}
	opts := mqtt.NewClientOptions().SetClientID(id).SetTLSConfig(ClientTLS(t, pkiDir, tlstest.MonitorCertFile, tlstest.MonitorKeyFile)).
		SetProtocolVersion(4).SetCleanSession(false).
		SetAutoReconnect(true).SetMaxReconnectInterval(time.Second).SetConnectRetry(true).SetConnectRetryInterval(500 * time.Millisecond).
		SetConnectTimeout(5 * time.Second).SetOrderMatters(true).SetKeepAlive(5 * time.Second).
		SetDefaultPublishHandler(handler).
		SetOnConnectHandler(func(c mqtt.Client) {
			m.mu.Lock()
			m.connects++
			m.mu.Unlock()
			// Resubscribing is harmless and covers a session the cluster lost.
			c.Subscribe(filter, 1, nil)
		})
	for _, u := range urls {
		opts.AddBroker(u)
	}
	m.c = mqtt.NewClient(opts)
	if tok := m.c.Connect(); !tok.WaitTimeout(60*time.Second) || tok.Error() != nil {
		t.Fatalf("natstest: monitor connect: %v", tok.Error())
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		tok := m.c.Subscribe(filter, 1, nil)
		if tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("natstest: monitor subscribe %s: %v", filter, tok.Error())
		}
		time.Sleep(200 * time.Millisecond)
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

// Connects is how often the monitor (re)connected.
func (m *Monitor) Connects() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.connects
}

// ClientTLS is the TLS client configuration for a PKI identity.
func ClientTLS(t testing.TB, pkiDir, certFile, keyFile string) *tls.Config {
	t.Helper()
	ca, err := os.ReadFile(filepath.Join(pkiDir, tlstest.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cert, err := tls.LoadX509KeyPair(filepath.Join(pkiDir, certFile), filepath.Join(pkiDir, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, ServerName: "localhost", MinVersion: tls.VersionTLS12}
}

// Publish sends payload to topic at QoS 1 and waits for the PUBACK.
func (m *Monitor) Publish(topic string, payload []byte) error {
	tok := m.c.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(30 * time.Second) {
		return fmt.Errorf("natstest: publish %s: no PUBACK in 30 s", topic)
	}
	return tok.Error()
}
