package uplink

import (
	"errors"
	"fmt"
	"net"
	"sync"
)

// ErrPacketTooLarge ends a connection whose broker announces an MQTT packet
// larger than Options.MaxPacketBytes. The MQTT client would otherwise
// allocate whatever the 4-byte length says (up to 256 MiB, twice).
var ErrPacketTooLarge = errors.New("uplink: broker sent an MQTT packet over the size limit")

// errMalformedLength is a remaining-length field longer than 4 bytes.
var errMalformedLength = errors.New("uplink: broker sent a malformed MQTT packet length")

// frameGuard follows the MQTT packet framing of the bytes a broker sends
// (fixed header: type byte, remaining length as a base-128 varint of 1 to
// 4 bytes; then that many bytes) and fails on a length over max, before
// the client reads that length.
type frameGuard struct {
	max    int
	state  uint8 // 0 type byte, 1 length, 2 body
	length int   // remaining length being decoded
	shift  uint
	nlen   int // length bytes seen
	remain int // body bytes still to come
}

// scan advances over b, which the broker sent next.
func (g *frameGuard) scan(b []byte) error {
	for len(b) > 0 {
		switch g.state {
		case 0:
			g.state, g.length, g.shift, g.nlen = 1, 0, 0, 0
			b = b[1:]
		case 1:
			c := b[0]
			b = b[1:]
			g.length |= int(c&0x7f) << g.shift
			g.shift += 7
			g.nlen++
			if g.length > g.max {
				return fmt.Errorf("%w: at least %d bytes announced, limit %d (uplink max_packet_bytes)", ErrPacketTooLarge, g.length, g.max)
			}
			if c&0x80 != 0 {
				if g.nlen == 4 {
					return errMalformedLength
				}
				continue
			}
			g.state, g.remain = 2, g.length
			if g.remain == 0 {
				g.state = 0
			}
		case 2:
			n := min(len(b), g.remain)
			b = b[n:]
			g.remain -= n
			if g.remain == 0 {
				g.state = 0
			}
		}
	}
	return nil
}

// guardedConn checks what the broker sends before the MQTT client sees it.
// Once the guard has failed, every read fails and the connection is closed.
// The failure is also passed to failed: the MQTT client does not report
// a read error during its connect handshake as a lost connection.
type guardedConn struct {
	net.Conn
	failed func(error)
	mu     sync.Mutex // Read is called from one goroutine, but be safe
	g      frameGuard
	err    error
}

func newGuardedConn(c net.Conn, max int, failed func(error)) *guardedConn {
	return &guardedConn{Conn: c, g: frameGuard{max: max}, failed: failed}
}

func (c *guardedConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.Conn.Read(p)
	if gerr := c.g.scan(p[:n]); gerr != nil {
		c.err = gerr
		c.failed(gerr)
		c.Conn.Close()
		return 0, gerr
	}
	return n, err
}
