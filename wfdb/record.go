package wfdb

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Record is a WFDB record on disk whose signals all live in one .dat file.
type Record struct {
	Header *Header
	Dir    string // directory holding the record's files
	Name   string // record name (path base without extension)
}

// OpenRecord reads the header of the record at path (with or without
// ".hea") and checks that its signals can be decoded by this package.
func OpenRecord(path string) (*Record, error) {
	base := strings.TrimSuffix(path, ".hea")
	h, err := ReadHeader(base)
	if err != nil {
		return nil, err
	}
	rec := &Record{Header: h, Dir: filepath.Dir(base), Name: filepath.Base(base)}
	if len(h.Signals) == 0 {
		return rec, nil
	}
	s0 := h.Signals[0]
	for i, s := range h.Signals {
		switch {
		case s.FileName != s0.FileName:
			return nil, fmt.Errorf("wfdb: %s.hea: %w: signals in several files (%s, %s)", rec.Name, ErrUnsupported, s0.FileName, s.FileName)
		case s.Format != s0.Format:
			return nil, fmt.Errorf("wfdb: %s.hea: %w: mixed storage formats %d and %d", rec.Name, ErrUnsupported, s0.Format, s.Format)
		case s.Format != Format16 && s.Format != Format212:
			return nil, fmt.Errorf("wfdb: %s.hea: signal %d: %w: storage format %d (only 16 and 212 are decoded)", rec.Name, i, ErrUnsupported, s.Format)
		case s.SamplesPerFrame != 1 || s.Skew != 0:
			return nil, fmt.Errorf("wfdb: %s.hea: signal %d: %w: multi-frequency or skewed signals", rec.Name, i, ErrUnsupported)
		case s.ByteOffset != s0.ByteOffset:
			return nil, fmt.Errorf("wfdb: %s.hea: signal %d: %w: differing byte offsets", rec.Name, i, ErrFormat)
		case strings.ContainsAny(s.FileName, `/\`) || s.FileName == "-" || s.FileName == "":
			return nil, fmt.Errorf("wfdb: %s.hea: signal %d: %w: file name %q is not a plain file name", rec.Name, i, ErrUnsupported, s.FileName)
		}
	}
	return rec, nil
}

// Frames opens the record's signal file for reading frame by frame. The
// caller must Close the returned reader.
func (rec *Record) Frames() (*FrameReader, error) {
	h := rec.Header
	if len(h.Signals) == 0 {
		return nil, fmt.Errorf("wfdb: %s: record has no signals", rec.Name)
	}
	s0 := h.Signals[0]
	path := filepath.Join(rec.Dir, s0.FileName)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("wfdb: %w", err)
	}
	if s0.ByteOffset > 0 {
		n, err := io.CopyN(io.Discard, f, s0.ByteOffset)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("wfdb: %s: %w: file shorter (%d bytes) than its byte offset %d", s0.FileName, ErrTruncated, n, s0.ByteOffset)
		}
	}
	sr, err := NewSignalReader(f, s0.FileName, s0.Format, len(h.Signals))
	if err != nil {
		f.Close()
		return nil, err
	}
	return &FrameReader{sr: sr, f: f, h: h, sums: make([]int, len(h.Signals)), raw: make([]int, len(h.Signals))}, nil
}

// FrameReader reads a record's frames, stops at the header's sample count
// and verifies the header checksums once the whole record has been read.
type FrameReader struct {
	sr   *SignalReader
	f    *os.File
	h    *Header
	sums []int
	raw  []int
	done bool
}

// Header returns the record's header.
func (fr *FrameReader) Header() *Header { return fr.h }

// Frames returns the number of frames read so far.
func (fr *FrameReader) Frames() int64 { return fr.sr.Frames() }

// ReadFrame decodes the next frame into v and valid (see
// SignalReader.ReadFrame). After the last frame it returns io.EOF if every
// checksum given in the header matches, or an error wrapping ErrChecksum.
// A file shorter than the header's sample count is an ErrTruncated error.
func (fr *FrameReader) ReadFrame(v []int, valid []bool) error {
	if fr.done {
		return io.EOF
	}
	n := fr.h.NumSamples
	if n > 0 && fr.sr.Frames() >= n {
		return fr.finish()
	}
	err := fr.sr.ReadFrame(v, valid)
	if err == io.EOF {
		if n > 0 {
			return fmt.Errorf("wfdb: %s: %w: %d frames, header declares %d", fr.h.Signals[0].FileName, ErrTruncated, fr.sr.Frames(), n)
		}
		return fr.finish()
	}
	if err != nil {
		return err
	}
	for i := range fr.sums {
		x := v[i]
		if !valid[i] {
			x = fr.invalidRaw()
		}
		fr.sums[i] += x
	}
	return nil
}

func (fr *FrameReader) invalidRaw() int {
	if fr.h.Signals[0].Format == Format16 {
		return Invalid16
	}
	return Invalid212
}

// finish verifies checksums; the sum is the 16-bit two's complement sum of
// all stored sample values, as the header(5) page specifies.
func (fr *FrameReader) finish() error {
	fr.done = true
	for i, s := range fr.h.Signals {
		if !s.HasChecksum {
			continue
		}
		got := int(int16(uint16(fr.sums[i] & 0xFFFF)))
		if got != s.Checksum {
			return fmt.Errorf("wfdb: %s signal %d (%s): %w: computed %d, header says %d", s.FileName, i, s.Description, ErrChecksum, got, s.Checksum)
		}
	}
	return io.EOF
}

// Close closes the signal file.
func (fr *FrameReader) Close() error { return fr.f.Close() }
