package uplink_test

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"medagent/tlsconf/tlstest"
	"medagent/uplink"
	"medagent/uplink/uplinktest"
)

// holdingBroker is a minimal MQTT 3.1.1 broker over mutual TLS that holds
// every CONNECT for hold before it answers, as a cluster does while its
// session store recovers (NATS until JetStream is back). After CONNACK it
// acknowledges what a session sends (PUBACK, SUBACK, PINGRESP).
type holdingBroker struct {
	URL      string
	hold     atomic.Int64 // time.Duration; < 0: never answer
	connects atomic.Int64 // CONNECTs read
	wg       sync.WaitGroup
}

func startHoldingBroker(t *testing.T, p *tlstest.PKI, hold time.Duration) *holdingBroker {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(p.Broker.CertFile, p.Broker.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(p.CA.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert})
	if err != nil {
		t.Fatal(err)
	}
	b := &holdingBroker{URL: "tls://" + l.Addr().String()}
	b.hold.Store(int64(hold))
	var mu sync.Mutex
	var conns []net.Conn
	b.wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			b.wg.Go(func() { b.serve(c) })
		}
	})
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		b.wg.Wait()
	})
	return b
}

func (b *holdingBroker) serve(c net.Conn) {
	defer c.Close()
	for {
		cp, err := packets.ReadPacket(c)
		if err != nil {
			return
		}
		var out packets.ControlPacket
		switch p := cp.(type) {
		case *packets.ConnectPacket:
			b.connects.Add(1)
			hold := time.Duration(b.hold.Load())
			if hold < 0 {
				buf := make([]byte, 1)
				c.Read(buf) // until the client gives up
				return
			}
			time.Sleep(hold)
			out = packets.NewControlPacket(packets.Connack)
		case *packets.PublishPacket:
			if p.Qos == 0 {
				continue
			}
			a := packets.NewControlPacket(packets.Puback).(*packets.PubackPacket)
			a.MessageID = p.MessageID
			out = a
		case *packets.SubscribePacket:
			a := packets.NewControlPacket(packets.Suback).(*packets.SubackPacket)
			a.MessageID = p.MessageID
			a.ReturnCodes = make([]byte, len(p.Topics))
			out = a
		case *packets.PingreqPacket:
			out = packets.NewControlPacket(packets.Pingresp)
		case *packets.DisconnectPacket:
			return
		default:
			continue
		}
		if err := out.Write(c); err != nil {
			return
		}
	}
}

// TestHeldConnectIsWaitedFor: a broker that took the connection (TCP and
// TLS) and holds the CONNECT longer than the connect timeout is waited for
// up to ConnackTimeout: the first attempt connects, with no second TLS
// handshake and session take-over piled on a busy broker.
func TestHeldConnectIsWaitedFor(t *testing.T) {
	p := writePKI(t)
	b := startHoldingBroker(t, p, 1500*time.Millisecond)
	src := uplinktest.NewSource()
	src.Append(vitals(0))
	o := options(p, nil)
	o.Broker = b.URL
	o.ConnectTimeout, o.ConnackTimeout = 500*time.Millisecond, 10*time.Second
	u, err := uplink.New(o, src, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	run(t, u)
	waitAcked(t, src, 1, 20*time.Second)
	st := u.Status()
	if st.Attempts != 1 || st.Connects != 1 || b.connects.Load() != 1 {
		t.Errorf("%d attempts, %d connects, %d CONNECTs at the broker: want the one held CONNECT waited for", st.Attempts, st.Connects, b.connects.Load())
	}
	if st.ConnackWait < 1400*time.Millisecond {
		t.Errorf("ConnackWait = %v, want the broker's 1.5 s hold", st.ConnackWait)
	}
}

// TestConnackTimeout: a broker that never answers the CONNECT is given up
// after ConnackTimeout (not the shorter ConnectTimeout of dial and TLS),
// and the error says that the broker held it.
func TestConnackTimeout(t *testing.T) {
	p := writePKI(t)
	b := startHoldingBroker(t, p, -1)
	o := options(p, nil)
	o.Broker = b.URL
	o.ConnectTimeout, o.ConnackTimeout = 300*time.Millisecond, 1500*time.Millisecond
	o.BackoffMin, o.BackoffMax = 5*time.Second, 5*time.Second
	u, err := uplink.New(o, uplinktest.NewSource(), testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	run(t, u)
	waitFor(t, "first attempt over", 10*time.Second, func() bool { return u.Status().LastError != nil })
	took := time.Since(start)
	st := u.Status()
	if !strings.Contains(st.LastError.Error(), "no CONNACK within connack_timeout") || st.Connects != 0 || b.connects.Load() != 1 {
		t.Fatalf("Status = %+v, %d CONNECTs: want one CONNECT given up for want of a CONNACK", st, b.connects.Load())
	}
	if took < 1500*time.Millisecond {
		t.Errorf("gave up after %v, before connack_timeout 1.5s", took)
	}
}
