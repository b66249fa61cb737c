package acquire

import (
	"io"
	"testing"
	"time"

	"medagent/hal/spec"
	"medagent/sensors"
)

// latePort holds up one read of the port, as a loaded machine keeps the
// sampling thread off the CPU while the oximeter keeps sending.
type latePort struct {
	io.ReadWriteCloser
	reads, at int
	delay     time.Duration
}

func (p *latePort) Read(b []byte) (int, error) {
	if p.reads++; p.reads == p.at {
		time.Sleep(p.delay)
	}
	return p.ReadWriteCloser.Read(b)
}

// A Nonin read 400 ms late loses nothing and invents nothing: its frames
// waited in the tty, so every slot is a valid sample, none is counted
// lost, and the stream does not run ahead of the clock. (The reader took
// three queued frames a read and the sampler took the rest of the delay
// for a gap: ~27 invalid samples that had been read, then the queued
// frames after them, 360 ms ahead of their time.)
func TestNoninLateReaderLosesNothing(t *testing.T) {
	h := newHarness(t, []sensors.Config{noninSensor}, func(s *sampler) {
		open := s.buses.Serial
		s.buses.Serial = func(path string, f spec.SerialFraming, timeout time.Duration) (io.ReadWriteCloser, error) {
			p, err := open(path, f, timeout)
			if err != nil {
				return nil, err
			}
			return &latePort{ReadWriteCloser: p, at: 40, delay: 400 * time.Millisecond}, nil
		}
	})
	h.start()
	h.waitFor(10*time.Second, "the late read and a second after it", func() bool {
		n, _ := h.got("oxi").counts(2, 0)
		return n >= 2*75
	})
	h.stop()
	c := h.got("oxi")
	n, valid := c.counts(2, 0) // pleth: valid from the first frame
	if valid != n {
		t.Errorf("%d of %d pleth samples invalid: frames that were read were taken for lost ones", n-valid, n)
	}
	if ev := h.spool.events("oxi"); len(ev) != 0 {
		t.Errorf("events %+v, want none (nothing was lost)", ev)
	}
	for k, b := range c.blocks {
		if end := b[0].Mono + h.smp[0].dur(len(b[0].Samples)); end > c.recv[k]+50*time.Millisecond {
			t.Fatalf("frame %d ends at %v, handed over at %v: the stream ran ahead of the clock", k, end, c.recv[k])
		}
	}
	last := c.blocks[len(c.blocks)-1][0]
	h.checkStreams(last.Mono + h.smp[0].dur(len(last.Samples)) - c.blocks[0][0].Mono)
}
