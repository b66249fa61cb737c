package noninsim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"sync"
	"time"

	"medagent/sensors/nonin"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// Waveform fills dst with the next pleth samples (0..255).
type Waveform func(dst []float64)

// Opts configures an Oximeter.
type Opts struct {
	// Link is the stable device path to create (a symlink); required.
	Link string
	// Wave gives pleth samples at 75/s; nil is a 72/min pulse shape.
	Wave Waveform
	// Numerics, when set, gives HR and SpO2 at the start of every packet
	// (packet k starts at k/3 s), overriding SetNumerics.
	Numerics func(t time.Duration) (hr, spo2 int)
	// Clock is the simulator's time: Run sends the frames due by it.
	// Nil is the time since Run started.
	Clock func() time.Duration
}

// Oximeter is a simulated device behind a pseudo-terminal.
type Oximeter struct {
	mu       sync.Mutex
	link     string
	wave     Waveform
	numerics func(time.Duration) (int, int)
	clock    func() time.Duration
	frames   int64
	master   *os.File
	slave    *os.File
	pos      int
	data     [nonin.FramesPerPacket]uint8
	hr, spo2 int
	status   uint8
	corrupt  int
	sample   [1]float64
	burst    [burstFrames * nonin.FrameSize]byte
}

// burstFrames is how many frames go to the pty in one write at most: a
// second's worth.
const burstFrames = nonin.FramesPerSecond

// New creates the pty and the link. Close releases both.
func New(o *Opts) (*Oximeter, error) {
	if o == nil || o.Link == "" {
		return nil, errors.New("noninsim: Opts.Link is required")
	}
	s := &Oximeter{link: o.Link, wave: o.Wave, numerics: o.Numerics, clock: o.Clock, hr: 72, spo2: 97, status: nonin.PerfusionGreen}
	if s.wave == nil {
		k := 0
		s.wave = func(dst []float64) {
			for i := range dst {
				ph := math.Mod(float64(k)*72/60/nonin.FramesPerSecond, 1)
				dst[i] = 128 + 100*math.Exp(-math.Pow((ph-0.2)/0.08, 2)) - 40*ph
				k++
			}
		}
	}
	s.data = nonin.PacketData(s.hr, s.spo2, 0x40)
	if err := s.plug(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Oximeter) plug() error {
	m, t, err := pty.Open()
	if err != nil {
		return fmt.Errorf("noninsim: open pty: %w", err)
	}
	// Raw mode from the start, so frames written before the reader
	// configures the port are not line-edited or echoed.
	tio, err := unix.IoctlGetTermios(int(t.Fd()), unix.TCGETS)
	if err == nil {
		tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		tio.Oflag &^= unix.OPOST
		tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		tio.Cflag = tio.Cflag&^(unix.CSIZE|unix.PARENB) | unix.CS8
		err = unix.IoctlSetTermios(int(t.Fd()), unix.TCSETS, tio)
	}
	if err != nil {
		m.Close()
		t.Close()
		return fmt.Errorf("noninsim: raw mode: %w", err)
	}
	tmp := s.link + ".tmp"
	os.Remove(tmp)
	if err := os.Symlink(t.Name(), tmp); err != nil {
		m.Close()
		t.Close()
		return fmt.Errorf("noninsim: link: %w", err)
	}
	if err := os.Rename(tmp, s.link); err != nil {
		m.Close()
		t.Close()
		return fmt.Errorf("noninsim: link: %w", err)
	}
	s.master, s.slave = m, t
	return nil
}

// Path is the stable device path to open.
func (s *Oximeter) Path() string { return s.link }

// SetNumerics sets the HR and SpO2 sent from the next packet on
// (nonin.HRMissing / nonin.SpO2Missing for none).
func (s *Oximeter) SetNumerics(hr, spo2 int) {
	s.mu.Lock()
	s.hr, s.spo2 = hr, spo2
	s.mu.Unlock()
}

// SetStatus sets the status bits (SNSD, ARTF, OOT, SNSA, perfusion) of the
// following frames; SYNC and bit 7 are managed by the simulator.
func (s *Oximeter) SetStatus(bits uint8) {
	s.mu.Lock()
	s.status = bits &^ (nonin.StatusAlways1 | nonin.StatusSync)
	s.mu.Unlock()
}

// CorruptNext makes the next n frames carry a wrong checksum.
func (s *Oximeter) CorruptNext(n int) {
	s.mu.Lock()
	s.corrupt += n
	s.mu.Unlock()
}

// WriteFrames writes the next n frames at once (up to a second's worth
// per write to the pty).
func (s *Oximeter) WriteFrames(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.master == nil {
		return errors.New("noninsim: unplugged")
	}
	for n > 0 {
		k := min(n, burstFrames)
		for i := range k {
			s.encode(s.burst[i*nonin.FrameSize:])
		}
		if _, err := s.master.Write(s.burst[:k*nonin.FrameSize]); err != nil {
			return fmt.Errorf("noninsim: write: %w", err)
		}
		n -= k
	}
	return nil
}

// encode puts the next frame into dst.
func (s *Oximeter) encode(dst []byte) {
	if s.pos == 0 {
		if s.numerics != nil {
			s.hr, s.spo2 = s.numerics(time.Duration(s.frames) * time.Second / nonin.FramesPerSecond)
		}
		s.data = nonin.PacketData(s.hr, s.spo2, 0x40)
	}
	s.frames++
	s.wave(s.sample[:])
	st := s.status
	if s.pos == 0 {
		st |= nonin.StatusSync
	}
	p := uint8(math.Max(0, math.Min(255, math.Round(s.sample[0]))))
	nonin.Encode(dst, st, p, s.data[s.pos])
	if s.corrupt > 0 {
		dst[4] ^= 0x5A
		s.corrupt--
	}
	s.pos = (s.pos + 1) % nonin.FramesPerPacket
}

// Run sends the frames due at 75 per second by the simulator's clock
// (Opts.Clock) until ctx ends (nil) or a write fails. A real oximeter
// never skips a frame: when Run was kept off the CPU, the frames due
// meanwhile go out together in one write, as a UART's queue would hold
// them (a ticker alone drops the ticks a slow receiver misses: the
// simulator then sent fewer frames than 75 a second, and the reader saw
// gaps the device had made). Nor is a real oximeter late: Run writes from
// an OS thread of its own at SCHED_FIFO priority Priority when the process
// may (else at normal priority), woken by the kernel (nanosleep) rather
// than by the Go scheduler's timers, which wait for threads of normal
// priority on a loaded machine; so a bench under load measures the
// reader, not the simulator. Frames due while unplugged are not sent.
// Unplug makes Run wait for Replug instead of failing.
func (s *Oximeter) Run(ctx context.Context) error {
	clock := s.clock
	if clock == nil {
		start := time.Now()
		clock = func() time.Duration { return time.Since(start) }
	}
	// The thread ends with Run (a goroutine that exits locked takes its
	// thread with it), so its priority never reaches other goroutines.
	runtime.LockOSThread()
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: Priority}
	_ = unix.SchedSetAttr(0, &attr, 0) // best effort: a simulator without the right runs as it can
	period := unix.NsecToTimespec(int64(time.Second / nonin.FramesPerSecond))
	from := clock()
	var sent int64 // frames due so far, sent or (unplugged) not
	for {
		ts := period
		for unix.Nanosleep(&ts, &ts) == unix.EINTR {
		}
		if ctx.Err() != nil {
			return nil
		}
		due := int64((clock() - from) * nonin.FramesPerSecond / time.Second)
		n := due - sent
		if n <= 0 {
			continue
		}
		sent = due
		s.mu.Lock()
		plugged := s.master != nil
		s.mu.Unlock()
		if !plugged {
			continue
		}
		if err := s.WriteFrames(int(n)); err != nil {
			s.mu.Lock()
			plugged = s.master != nil
			s.mu.Unlock()
			if plugged {
				return err
			}
		}
	}
}

// Priority is the SCHED_FIFO priority of Run's thread: above the agent's
// sampling threads (realtime.priority, default 50), as hardware is not
// scheduled at all.
const Priority = 60

// Unplug closes the pty (the reader gets a hang-up) and removes the link.
func (s *Oximeter) Unplug() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.master == nil {
		return nil
	}
	err := errors.Join(s.master.Close(), s.slave.Close(), os.Remove(s.link))
	s.master, s.slave = nil, nil
	s.pos = 0
	return err
}

// Replug creates a new pty behind the same link.
func (s *Oximeter) Replug() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.master != nil {
		return errors.New("noninsim: already plugged")
	}
	return s.plug()
}

// Close unplugs for good.
func (s *Oximeter) Close() error { return s.Unplug() }
