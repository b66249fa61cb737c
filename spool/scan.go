package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
)

const readChunk = 64 << 10

// scanner reads frames from a segment file through one bounded buffer
// (at most one maximal frame, about 1 MiB).
type scanner struct {
	r      io.ReaderAt
	buf    []byte
	bufOff int64
}

func newScanner(r io.ReaderAt) *scanner { return &scanner{r: r} }

func (s *scanner) reset(r io.ReaderAt) {
	s.r = r
	s.buf = s.buf[:0]
	s.bufOff = 0
}

// fill makes buf hold the file bytes [off, off+want), or as many as exist
// before limit. It returns the bytes from off, never any at or past limit
// (the buffer may hold more, read earlier under a larger limit).
func (s *scanner) fill(off int64, want int, limit int64) ([]byte, error) {
	end := s.bufOff + int64(len(s.buf))
	cached := off >= s.bufOff && (off+int64(want) <= end || (end >= limit && off <= end))
	if !cached {
		size := max(want, readChunk)
		if rest := limit - off; int64(size) > rest {
			size = int(max(rest, 0))
		}
		if cap(s.buf) < size {
			s.buf = make([]byte, size)
		}
		n, err := s.r.ReadAt(s.buf[:size], off)
		s.buf = s.buf[:n]
		s.bufOff = off
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
	}
	b := s.buf[off-s.bufOff:]
	if rest := limit - off; int64(len(b)) > rest {
		b = b[:max(rest, 0)]
	}
	return b, nil
}

// frameAt returns the body and length of the frame at off, reading no
// further than limit. Errors: errIncomplete, errCorrupt or an I/O error.
func (s *scanner) frameAt(off, limit int64) ([]byte, int, error) {
	b, err := s.fill(off, frameHeaderLen, limit)
	if err != nil {
		return nil, 0, err
	}
	if len(b) >= frameHeaderLen && [4]byte(b[0:4]) == frameMagic {
		need := frameHeaderLen + int(binary.LittleEndian.Uint32(b[4:8]))
		if need <= frameHeaderLen+maxBody && len(b) < need && off+int64(need) <= limit {
			if b, err = s.fill(off, need, limit); err != nil {
				return nil, 0, err
			}
		}
	}
	return parseFrame(b)
}

// resync looks for the next offset after off where a valid frame starts.
// found is false when none exists before limit; pending is true when the
// only candidate is a frame that is not complete yet.
func (s *scanner) resync(off, limit int64) (next int64, found, pending bool) {
	pos := off + 1
	for pos < limit {
		b, err := s.fill(pos, readChunk, limit)
		if err != nil || len(b) == 0 {
			return 0, false, false
		}
		i := bytes.Index(b, frameMagic[:])
		if i < 0 {
			// Keep the last 3 bytes: a magic may straddle chunks.
			if len(b) <= len(frameMagic) {
				return 0, false, magicPrefix(b)
			}
			pos += int64(len(b) - len(frameMagic) + 1)
			continue
		}
		cand := pos + int64(i)
		_, _, err = s.frameAt(cand, limit)
		switch {
		case err == nil:
			return cand, true, false
		case errors.Is(err, errIncomplete):
			return cand, false, true
		}
		pos = cand + 1
	}
	return 0, false, false
}
