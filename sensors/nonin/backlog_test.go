package nonin_test

import (
	"io"
	"testing"
	"time"

	"medagent/hal/spec"
	"medagent/sensors"
	"medagent/sensors/nonin"
)

// queuedPort is a serial port whose kernel buffers hold b: a read takes
// what fits, as a tty that a late reader finds full would give it.
type queuedPort struct{ b []byte }

func (q *queuedPort) Read(p []byte) (int, error) {
	n := copy(p, q.b) // 0 with nothing left: the port's read timeout
	q.b = q.b[n:]
	return n, nil
}
func (q *queuedPort) Write(p []byte) (int, error) { return len(p), nil }
func (q *queuedPort) Close() error                { return nil }

// A Nonin read long after its frames came (a reader kept off the CPU for
// 13 s: more than one read of the port holds) takes them all at once, so
// the last sample of the read is the newest frame: 1000 frames queued,
// 1000 valid samples from one Read (819 before: the rest came in the next
// Read and the sampler set them after the first, ahead of their time).
func TestReadTakesTheWholeBacklog(t *testing.T) {
	const frames = 1000
	port := &queuedPort{}
	for i := range frames {
		var f [nonin.FrameSize]byte
		st := uint8(nonin.PerfusionGreen)
		if i%nonin.FramesPerPacket == 0 {
			st |= nonin.StatusSync
		}
		nonin.Encode(f[:], st, uint8(i), 0)
		port.b = append(port.b, f[:]...)
	}
	src, err := nonin.Descriptor.Source(sensors.Config{Name: "oxi", Driver: "nonin", Bus: "/dev/ttyUSB0"})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := src.Open(sensors.Buses{Serial: func(string, spec.SerialFraming, time.Duration) (io.ReadWriteCloser, error) {
		return port, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	b := make([]sensors.Block, 3)
	if _, err := dev.Read(b, 0); err != nil {
		t.Fatal(err)
	}
	if n := len(b[2].Samples); n != frames {
		t.Fatalf("one read took %d of the %d frames queued", n, frames)
	}
	for i, v := range b[2].Valid {
		if !v || b[2].Samples[i] != float64(uint8(i)) {
			t.Fatalf("pleth sample %d = %v valid %v, want %d valid", i, b[2].Samples[i], v, uint8(i))
		}
	}
}
