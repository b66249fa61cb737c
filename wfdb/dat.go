package wfdb

import (
	"errors"
	"fmt"
	"io"
)

// Invalid-sample markers of the storage formats.
const (
	Invalid212 = -2048
	Invalid16  = -32768
)

// ErrTruncated is wrapped when a file ends in the middle of a frame,
// annotation or declared sample count.
var ErrTruncated = errors.New("truncated WFDB file")

// ErrChecksum is wrapped when a signal's checksum does not match its header.
var ErrChecksum = errors.New("WFDB signal checksum mismatch")

const chunkSize = 64 << 10

// SignalReader decodes interleaved frames of a .dat file. It buffers its
// input in one fixed chunk and does not allocate per frame.
type SignalReader struct {
	r       io.Reader
	name    string
	format  int
	nsig    int
	buf     []byte
	pos     int
	end     int
	eof     bool
	err     error
	pending int  // second sample of a format 212 pair
	hasPend bool // pending holds a sample
	frames  int64
}

// NewSignalReader returns a reader of frames of nsig signals stored in
// format (16 or 212) read from r. name is used in error messages.
func NewSignalReader(r io.Reader, name string, format, nsig int) (*SignalReader, error) {
	if format != Format16 && format != Format212 {
		return nil, fmt.Errorf("wfdb: %s: %w: storage format %d (only 16 and 212 are decoded)", name, ErrUnsupported, format)
	}
	if nsig < 1 || nsig > MaxSignals {
		return nil, fmt.Errorf("wfdb: %s: %w: %d signals in one file (1..%d)", name, ErrFormat, nsig, MaxSignals)
	}
	return &SignalReader{r: r, name: name, format: format, nsig: nsig, buf: make([]byte, chunkSize)}, nil
}

// Frames returns the number of complete frames read so far.
func (s *SignalReader) Frames() int64 { return s.frames }

// ReadFrame decodes the next frame into v[:nsig], with valid[i] false where
// the file holds the format's invalid-sample marker (v[i] is then 0).
// It returns io.EOF at a clean end of file and an error wrapping
// ErrTruncated when the file ends inside a frame.
func (s *SignalReader) ReadFrame(v []int, valid []bool) error {
	if len(v) < s.nsig || len(valid) < s.nsig {
		return fmt.Errorf("wfdb: %s: frame buffers hold %d/%d values, need %d", s.name, len(v), len(valid), s.nsig)
	}
	for i := 0; i < s.nsig; i++ {
		x, ok, err := s.sample()
		if err != nil {
			if err == io.EOF && i > 0 {
				return fmt.Errorf("wfdb: %s: %w: file ends inside frame %d (signal %d of %d)", s.name, ErrTruncated, s.frames, i, s.nsig)
			}
			return err
		}
		v[i], valid[i] = x, ok
	}
	s.frames++
	return nil
}

// fill makes at least n bytes available unless the input ends first; it
// returns the number available.
func (s *SignalReader) fill(n int) int {
	if s.end-s.pos >= n || s.eof {
		return s.end - s.pos
	}
	copy(s.buf, s.buf[s.pos:s.end])
	s.end -= s.pos
	s.pos = 0
	for s.end < n && !s.eof {
		m, err := s.r.Read(s.buf[s.end:])
		s.end += m
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.err = err
			}
		} else if m == 0 {
			// A reader returning (0, nil) repeatedly would spin; treat
			// it as the end of the input.
			s.eof = true
		}
	}
	return s.end - s.pos
}

// sample returns the next raw sample and whether it is valid.
func (s *SignalReader) sample() (int, bool, error) {
	switch s.format {
	case Format16:
		if s.fill(2) < 2 {
			return 0, false, s.endErr(s.end - s.pos)
		}
		x := int(int16(uint16(s.buf[s.pos]) | uint16(s.buf[s.pos+1])<<8))
		s.pos += 2
		if x == Invalid16 {
			return 0, false, nil
		}
		return x, true, nil
	default: // Format212
		var x int
		if s.hasPend {
			x = s.pending
			s.hasPend = false
		} else {
			n := s.fill(3)
			if n < 2 {
				return 0, false, s.endErr(n)
			}
			b0, b1 := int(s.buf[s.pos]), int(s.buf[s.pos+1])
			x = b0 | (b1&0x0F)<<8
			if n >= 3 {
				b2 := int(s.buf[s.pos+2])
				s.pending = b2 | (b1&0xF0)<<4
				s.pending = signExtend12(s.pending)
				s.hasPend = true
				s.pos += 3
			} else {
				// An odd final sample may be stored in two bytes.
				s.pos += 2
			}
			x = signExtend12(x)
		}
		if x == Invalid212 {
			return 0, false, nil
		}
		return x, true, nil
	}
}

func signExtend12(x int) int {
	x &= 0xFFF
	if x&0x800 != 0 {
		x -= 0x1000
	}
	return x
}

// endErr turns running out of bytes into io.EOF, a truncation error or the
// underlying read error.
func (s *SignalReader) endErr(left int) error {
	if s.err != nil {
		return fmt.Errorf("wfdb: %s: read: %w", s.name, s.err)
	}
	if left == 0 {
		return io.EOF
	}
	return fmt.Errorf("wfdb: %s: %w: %d stray bytes at the end after frame %d", s.name, ErrTruncated, left, s.frames)
}
