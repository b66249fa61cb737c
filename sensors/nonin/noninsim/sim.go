package noninsim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
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
}

// Oximeter is a simulated device behind a pseudo-terminal.
type Oximeter struct {
	mu       sync.Mutex
	link     string
	wave     Waveform
	numerics func(time.Duration) (int, int)
	frames   int64
	master   *os.File
	slave    *os.File
	pos      int
	data     [nonin.FramesPerPacket]uint8
	hr, spo2 int
	status   uint8
	corrupt  int
	sample   [1]float64
	frame    [nonin.FrameSize]byte
}

// New creates the pty and the link. Close releases both.
func New(o *Opts) (*Oximeter, error) {
	if o == nil || o.Link == "" {
		return nil, errors.New("noninsim: Opts.Link is required")
	}
	s := &Oximeter{link: o.Link, wave: o.Wave, numerics: o.Numerics, hr: 72, spo2: 97, status: nonin.PerfusionGreen}
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

// WriteFrames writes the next n frames at once.
func (s *Oximeter) WriteFrames(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.master == nil {
		return errors.New("noninsim: unplugged")
	}
	for i := 0; i < n; i++ {
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
		nonin.Encode(s.frame[:], st, p, s.data[s.pos])
		if s.corrupt > 0 {
			s.frame[4] ^= 0x5A
			s.corrupt--
		}
		if _, err := s.master.Write(s.frame[:]); err != nil {
			return fmt.Errorf("noninsim: write: %w", err)
		}
		s.pos = (s.pos + 1) % nonin.FramesPerPacket
	}
	return nil
}

// Run writes frames at 75 per second until ctx ends (nil) or a write
// fails. Unplug makes Run wait for Replug instead of failing.
func (s *Oximeter) Run(ctx context.Context) error {
	tick := time.NewTicker(time.Second / nonin.FramesPerSecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		s.mu.Lock()
		plugged := s.master != nil
		s.mu.Unlock()
		if !plugged {
			continue
		}
		if err := s.WriteFrames(1); err != nil {
			s.mu.Lock()
			plugged = s.master != nil
			s.mu.Unlock()
			if plugged {
				return err
			}
		}
	}
}

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
