package uplink_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"medagent/uplink"
	"medagent/uplink/uplinktest"
)

// hostileBroker accepts mutual TLS with the PKI's broker certificate,
// reads the CONNECT, and answers with what send returns.
func hostileBroker(t *testing.T, certFile, keyFile string, send func(c net.Conn)) (url string, conns *atomic.Int32) {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	conns = new(atomic.Int32)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				// The CONNECT: type byte, a one- or two-byte length, body.
				var h [2]byte
				if _, err := io.ReadFull(c, h[:]); err != nil {
					return
				}
				n := int(h[1] & 0x7f)
				if h[1]&0x80 != 0 {
					var b [1]byte
					io.ReadFull(c, b[:])
					n += int(b[0]) << 7
				}
				io.CopyN(io.Discard, c, int64(n))
				send(c)
			}()
		}
	}()
	return "tls://" + l.Addr().String(), conns
}

// TestHostileBrokerPacketLength: a broker that announces a 256 MiB packet
// (the largest MQTT length) gets its connection dropped before the client
// allocates for it; the uplink stays small and tries again later.
func TestHostileBrokerPacketLength(t *testing.T) {
	const maxLen = "\xff\xff\xff\x7f" // remaining length 268,435,455
	junk := make([]byte, 64<<10)
	cases := []struct {
		name string
		send func(c net.Conn)
	}{
		{"huge CONNACK", func(c net.Conn) {
			c.Write([]byte("\x20" + maxLen))
			for range 64 {
				if _, err := c.Write(junk); err != nil {
					return
				}
			}
		}},
		{"huge PUBLISH after CONNACK", func(c net.Conn) {
			c.Write([]byte{0x20, 0x02, 0x00, 0x00}) // CONNACK accepted
			c.Write([]byte("\x30" + maxLen + "\x00\x05medag"))
			for range 64 {
				if _, err := c.Write(junk); err != nil {
					return
				}
			}
		}},
		{"malformed length", func(c net.Conn) {
			c.Write([]byte{0x20, 0x02, 0x00, 0x00})
			c.Write([]byte("\x30\x80\x80\x80\x80\x01"))
			time.Sleep(time.Second)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writePKI(t)
			url, conns := hostileBroker(t, p.Broker.CertFile, p.Broker.KeyFile, c.send)
			o := options(p, nil)
			o.Broker = url
			o.BackoffMin, o.BackoffMax = 50*time.Millisecond, 100*time.Millisecond
			src := uplinktest.NewSource()
			u, err := uplink.New(o, src, discard)
			if err != nil {
				t.Fatal(err)
			}
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			stop := run(t, u)
			deadline := time.Now().Add(20 * time.Second)
			for conns.Load() < 3 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			stop()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			st := u.Status()
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d connections, allocated %d KiB in all, %s, last error: %v", conns.Load(), alloc>>10, vmRSS(), st.LastError)
			if conns.Load() < 3 {
				t.Errorf("%d connections: the uplink did not come back after the drop", conns.Load())
			}
			want := "over the size limit"
			if strings.HasPrefix(c.name, "malformed") {
				want = "malformed MQTT packet length"
			}
			if st.LastError == nil || !strings.Contains(st.LastError.Error(), want) {
				t.Errorf("LastError = %v, want %q", st.LastError, want)
			}
			if c.name == "huge PUBLISH after CONNACK" && !errors.Is(st.LastError, uplink.ErrPacketTooLarge) {
				t.Errorf("LastError = %v, want errors.Is ErrPacketTooLarge", st.LastError)
			}
			// Three connections with TLS cost a few MiB; one 256 MiB packet
			// would cost 512.
			if alloc > 32<<20 {
				t.Errorf("allocated %d MiB while the broker announced 256 MiB packets", alloc>>20)
			}
		})
	}
}

func vmRSS() string {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return "peak RSS " + strings.Join(strings.Fields(l)[1:], " ")
		}
	}
	return "peak RSS unknown"
}
