package nonin_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"medagent/hal"
	"medagent/hal/buserr"
	"medagent/sensors/nonin"
	"medagent/sensors/nonin/noninsim"
)

var framing = hal.SerialFraming{Baud: nonin.Baud, DataBits: nonin.DataBits, Parity: "none", StopBits: nonin.StopBits}

func newOximeter(t *testing.T) *noninsim.Oximeter {
	t.Helper()
	ox, err := noninsim.New(&noninsim.Opts{Link: filepath.Join(t.TempDir(), "nonin0")})
	if err != nil {
		t.Fatalf("%v (the simulator needs /dev/ptmx)", err)
	}
	t.Cleanup(func() { ox.Close() })
	return ox
}

func open(t *testing.T, path string) (*hal.Serial, *nonin.Dev) {
	t.Helper()
	p, err := hal.OpenSerial(path, framing, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, nonin.New(p)
}

// readPackets reads frames until n packets completed.
func readPackets(t *testing.T, d *nonin.Dev, n int) (frames int) {
	t.Helper()
	var f nonin.Frame
	for got := 0; got < n; {
		pk, err := d.Read(&f)
		if err != nil {
			t.Fatalf("after %d frames: %v", frames, err)
		}
		frames++
		if pk {
			got++
		}
	}
	return frames
}

func TestDevOverPTY(t *testing.T) {
	ox := newOximeter(t)
	ox.SetNumerics(88, 94)
	_, d := open(t, ox.Path())
	if err := ox.WriteFrames(3 * nonin.FramesPerPacket); err != nil {
		t.Fatal(err)
	}
	if frames := readPackets(t, d, 3); frames != 75 {
		t.Fatalf("read %d frames for 3 packets, want 75", frames)
	}
	if p := d.Packet(); p.HR != 88 || p.SpO2 != 94 || p.SREV != 0x40 {
		t.Fatalf("packet HR=%d SpO2=%d SREV=%#x", p.HR, p.SpO2, p.SREV)
	}
	// No more frames: the port's read timeout surfaces as ErrTimeout.
	var f nonin.Frame
	if _, err := d.Read(&f); !errors.Is(err, buserr.ErrTimeout) {
		t.Fatalf("idle Read = %v, want ErrTimeout", err)
	}
}

func TestDevStatusAndMissing(t *testing.T) {
	ox := newOximeter(t)
	ox.SetNumerics(nonin.HRMissing, nonin.SpO2Missing)
	ox.SetStatus(nonin.StatusSNSD | nonin.StatusOOT)
	_, d := open(t, ox.Path())
	if err := ox.WriteFrames(nonin.FramesPerPacket); err != nil {
		t.Fatal(err)
	}
	var f nonin.Frame
	if _, err := d.Read(&f); err != nil {
		t.Fatal(err)
	}
	if !f.Disconnected() || !f.OutOfTrack() || f.Pos != 0 {
		t.Fatalf("frame %+v: want SNSD and OOT on frame 0", f)
	}
	readPackets(t, d, 1)
	if p := d.Packet(); p.HR != nonin.HRMissing || p.SpO2 != nonin.SpO2Missing {
		t.Fatalf("packet HR=%d SpO2=%d, want missing codes", p.HR, p.SpO2)
	}
}

func TestDevBadChecksum(t *testing.T) {
	ox := newOximeter(t)
	_, d := open(t, ox.Path())
	ox.CorruptNext(2)
	if err := ox.WriteFrames(3 * nonin.FramesPerPacket); err != nil {
		t.Fatal(err)
	}
	// The first packet loses two frames: only packets 2 and 3 complete,
	// and the first valid frame reports the two lost ones.
	var f nonin.Frame
	frames, lost, packets := 0, 0, 0
	for packets < 2 {
		pk, err := d.Read(&f)
		if err != nil {
			t.Fatal(err)
		}
		frames++
		lost += f.Lost
		if pk {
			packets++
		}
	}
	st := d.Stats()
	if frames != 73 || lost != 2 || st.BadChecksum != 2 || st.Packets != 2 {
		t.Fatalf("frames=%d lost=%d stats %+v, want 73 frames, 2 lost, 2 bad checksums, 2 packets", frames, lost, st)
	}
}

func TestDevUnplugReplug(t *testing.T) {
	ox := newOximeter(t)
	p, d := open(t, ox.Path())
	if err := ox.WriteFrames(nonin.FramesPerPacket); err != nil {
		t.Fatal(err)
	}
	readPackets(t, d, 1)
	if err := ox.Unplug(); err != nil {
		t.Fatal(err)
	}
	var f nonin.Frame
	_, err := d.Read(&f)
	if !errors.Is(err, buserr.ErrDisconnected) {
		t.Fatalf("Read after unplug = %v, want ErrDisconnected", err)
	}
	if _, err2 := d.Read(&f); !errors.Is(err2, buserr.ErrDisconnected) {
		t.Fatalf("Dev must stay failed after a disconnect, got %v", err2)
	}
	p.Close()
	// While unplugged the device path is gone.
	if _, err := hal.OpenSerial(ox.Path(), framing, time.Second); !errors.Is(err, buserr.ErrNotFound) {
		t.Fatalf("open while unplugged = %v, want ErrNotFound", err)
	}
	if err := ox.Replug(); err != nil {
		t.Fatal(err)
	}
	_, d = open(t, ox.Path())
	ox.SetNumerics(99, 99)
	if err := ox.WriteFrames(nonin.FramesPerPacket); err != nil {
		t.Fatal(err)
	}
	readPackets(t, d, 1)
	if d.Packet().HR != 99 {
		t.Fatalf("after replug HR=%d", d.Packet().HR)
	}
}

// BenchmarkDevRead reads 1,000 frames per iteration through a real pty
// and the serial stack.
func BenchmarkDevRead(b *testing.B) {
	ox, err := noninsim.New(&noninsim.Opts{Link: filepath.Join(b.TempDir(), "nonin0")})
	if err != nil {
		b.Fatal(err)
	}
	defer ox.Close()
	p, err := hal.OpenSerial(ox.Path(), framing, time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	d := nonin.New(p)
	var f nonin.Frame
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i < 1000; i += 200 {
			b.StopTimer()
			if err := ox.WriteFrames(200); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			for k := 0; k < 200; k++ {
				if _, err := d.Read(&f); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/1000samples")
}

// BenchmarkDecoder decodes 1,000 frames per iteration from memory.
func BenchmarkDecoder(b *testing.B) {
	var in []byte
	for len(in) < 1000*nonin.FrameSize {
		in = append(in, packetBytes(72, 97, 0, 0)...)
	}
	var d nonin.Decoder
	b.ReportAllocs()
	for b.Loop() {
		for p := in; len(p) > 0; {
			n, _ := d.Feed(p)
			p = p[n:]
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/1000samples")
}

func TestDevReadDoesNotAllocate(t *testing.T) {
	ox := newOximeter(t)
	_, d := open(t, ox.Path())
	if err := ox.WriteFrames(500); err != nil {
		t.Fatal(err)
	}
	var f nonin.Frame
	if n := testing.AllocsPerRun(400, func() {
		if _, err := d.Read(&f); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("Read allocates %v times per frame through the pty and serial stack", n)
	}
}

// A stream without valid frames does not keep Read from returning: after
// a second's worth of bytes it reports ErrNoFrame, and reads on once
// frames are valid again.
func TestDevGarbageReturns(t *testing.T) {
	ox := newOximeter(t)
	_, d := open(t, ox.Path())
	ox.CorruptNext(2 * nonin.FramesPerSecond)
	if err := ox.WriteFrames(2*nonin.FramesPerSecond + nonin.FramesPerPacket); err != nil {
		t.Fatal(err)
	}
	var f nonin.Frame
	_, err := d.Read(&f)
	if !errors.Is(err, nonin.ErrNoFrame) {
		t.Fatalf("Read over corrupt frames = %v, want ErrNoFrame", err)
	}
	var ok bool
	for i := 0; i < 3 && !ok; i++ {
		_, err = d.Read(&f)
		ok = err == nil
		if err != nil && !errors.Is(err, nonin.ErrNoFrame) {
			t.Fatalf("Read = %v, want a frame or ErrNoFrame", err)
		}
	}
	if !ok {
		t.Fatal("no frame after the garbage ended")
	}
}
