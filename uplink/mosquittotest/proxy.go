package mosquittotest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections to a broker and can cut them abruptly,
// which the broker sees as a lost client (its last will fires), unlike a
// clean DISCONNECT.
type Proxy struct {
	Addr string // 127.0.0.1:port to dial instead of the broker
	URL  string // tls://Addr

	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	frozen bool
	wg     sync.WaitGroup
}

// NewProxy starts a proxy to b, closed when the test ends.
func NewProxy(t testing.TB, b *Broker) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mosquittotest: proxy: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), URL: "tls://" + ln.Addr().String(), ln: ln, target: b.Addr}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		ln.Close()
		p.Cut()
		p.wg.Wait()
	})
	return p
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		p.wg.Go(func() { p.copy(up, c); up.Close() })
		p.wg.Go(func() { p.copy(c, up); c.Close() })
	}
}

// copy forwards src to dst, dropping what it reads while frozen.
func (p *Proxy) copy(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.isFrozen() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *Proxy) isFrozen() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frozen
}

// Freeze makes the proxy a black hole: connections stay open but every
// byte either way is dropped, like a hung broker or a dead route.
func (p *Proxy) Freeze() { p.mu.Lock(); p.frozen = true; p.mu.Unlock() }

// Thaw ends Freeze. Connections that lost bytes stay broken; new ones work.
func (p *Proxy) Thaw() { p.mu.Lock(); p.frozen = false; p.mu.Unlock() }

// Cut closes every proxied connection at once (new ones are still accepted).
func (p *Proxy) Cut() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // RST, not FIN: no goodbye of any kind
		}
		c.Close()
	}
}
