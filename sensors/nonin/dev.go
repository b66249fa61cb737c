package nonin

import (
	"errors"
	"fmt"
	"io"
	"syscall"

	"medagent/hal/buserr"
)

// Serial framing of Data Format #2.
const (
	Baud     = 9600
	DataBits = 8
	StopBits = 1
)

// ErrNoFrame means a second's worth of bytes arrived without one valid
// frame (wrong baud rate, wrong device, line noise). Read returns it so
// that a stream of garbage cannot keep it from returning; the caller may
// read on or reopen the port.
var ErrNoFrame = fmt.Errorf("no valid frame in a second's worth of bytes: %w", buserr.ErrBadFrame)

// maxSearch is how many bytes Read consumes looking for a frame before it
// gives up with ErrNoFrame: one second of Data Format #2.
const maxSearch = FramesPerSecond * FrameSize

// bufSize is what one read of the port takes at most: the Linux tty's
// buffer (N_TTY_BUF_SIZE, 4 KiB, 10.9 s of frames). So one read empties
// what the kernel holds, and the last byte read arrived just before the
// read returned (the oximeter sends without pause): frames a late reader
// finds queued are all taken at once, not a few at a time with the clock
// running ahead of them.
const bufSize = 4096

// searchStep is how many bytes Read decodes before it checks maxSearch.
const searchStep = 128

// Dev reads frames from a serial port (or any io.Reader). It owns no
// goroutine; Read blocks for at most the port's read timeout.
type Dev struct {
	r   io.Reader
	dec Decoder
	buf [bufSize]byte
	off int
	end int
	err error
	got int // bytes the last read of the port returned
}

// New returns a reader on r, which should be a port opened 9600 8N1 with a
// read timeout (hal.OpenSerial does both).
func New(r io.Reader) *Dev { return &Dev{r: r} }

// Read returns the next valid frame in f and whether it completed a packet
// (then Packet holds the numerics). A read that returns no data (the
// port's timeout) gives buserr.ErrTimeout; a vanished device gives
// buserr.ErrDisconnected, after which the caller closes the port and
// reopens it; the Dev must then be replaced with a new one.
func (d *Dev) Read(f *Frame) (packet bool, err error) {
	if d.err != nil {
		return false, d.err
	}
	searched := 0
	for {
		if d.off < d.end {
			// In steps, so that a long run of garbage stops the search.
			n, ok := d.dec.Feed(d.buf[d.off:min(d.end, d.off+searchStep)])
			d.off += n
			searched += n
			if !ok && searched > maxSearch {
				return false, fmt.Errorf("nonin: read: %d bytes: %w", searched, ErrNoFrame)
			}
			if ok {
				*f = *d.dec.Frame()
				return d.dec.PacketReady(), nil
			}
			continue
		}
		n, err := d.r.Read(d.buf[:])
		d.off, d.end, d.got = 0, n, n
		if n > 0 {
			continue
		}
		switch {
		case err == nil:
			return false, fmt.Errorf("nonin: read: no data: %w", buserr.ErrTimeout)
		case errors.Is(err, buserr.ErrTimeout):
			return false, fmt.Errorf("nonin: read: %w", err)
		case errors.Is(err, io.EOF), errors.Is(err, syscall.EIO), errors.Is(err, syscall.ENXIO),
			errors.Is(err, syscall.ENODEV), errors.Is(err, buserr.ErrDisconnected):
			d.err = fmt.Errorf("nonin: read: %w (%v)", buserr.ErrDisconnected, err)
		default:
			d.err = fmt.Errorf("nonin: read: %w", err)
		}
		return false, d.err
	}
}

// Next returns the next valid frame among the bytes Read has already taken
// from the port, without reading the port: ok is false when they hold no
// more whole frame (a partial one waits in the decoder for the next Read).
func (d *Dev) Next(f *Frame) (ok, packet bool) {
	if d.err != nil {
		return false, false
	}
	for d.off < d.end {
		n, ok := d.dec.Feed(d.buf[d.off:d.end])
		d.off += n
		if ok {
			*f = *d.dec.Frame()
			return true, d.dec.PacketReady()
		}
	}
	return false, false
}

// Backlog reports whether the last read of the port brought a full tty
// read buffer (4095 bytes in raw mode, ~11 s of frames): the port may hold
// more, in the tty driver's buffers behind it.
func (d *Dev) Backlog() bool { return d.got >= bufSize-FrameSize }

// Packet returns the numerics of the last complete packet.
func (d *Dev) Packet() *Packet { return d.dec.Packet() }

// Stats returns the decoder counters (bad checksums, skipped bytes, ...).
func (d *Dev) Stats() Stats { return d.dec.Stats() }
