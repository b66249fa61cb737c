package wfdb

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrWrite is wrapped by errors about data that cannot be written as asked
// (a value outside the storage format's range, unsorted annotations).
var ErrWrite = errors.New("cannot encode as WFDB")

// sampleRange is the range of raw values a format stores, the invalid
// marker included.
func sampleRange(format int) (lo, hi int, err error) {
	switch format {
	case Format212:
		return -2048, 2047, nil
	case Format16:
		return math.MinInt16, math.MaxInt16, nil
	}
	return 0, 0, fmt.Errorf("wfdb: %w: storage format %d (only 16 and 212 are written)", ErrUnsupported, format)
}

// EncodeSignals writes the raw samples of len(samples) signals, interleaved
// by frame, in format 16 or 212. Every signal must have the same number of
// samples; an invalid sample is the format's marker (Invalid16,
// Invalid212). Values outside the format's range are an error, never
// clipped.
func EncodeSignals(w io.Writer, format int, samples [][]int) error {
	lo, hi, err := sampleRange(format)
	if err != nil {
		return err
	}
	if len(samples) == 0 || len(samples) > MaxSignals {
		return fmt.Errorf("wfdb: %w: %d signals (1..%d)", ErrWrite, len(samples), MaxSignals)
	}
	n := len(samples[0])
	for i, s := range samples {
		if len(s) != n {
			return fmt.Errorf("wfdb: %w: signal %d has %d samples, signal 0 has %d", ErrWrite, i, len(s), n)
		}
	}
	bw := bufio.NewWriter(w)
	var pend int
	var hasPend bool
	for f := 0; f < n; f++ {
		for i := range samples {
			v := samples[i][f]
			if v < lo || v > hi {
				return fmt.Errorf("wfdb: %w: signal %d sample %d is %d, outside %d..%d of format %d", ErrWrite, i, f, v, lo, hi, format)
			}
			if format == Format16 {
				bw.WriteByte(byte(v))
				bw.WriteByte(byte(v >> 8))
				continue
			}
			if !hasPend {
				pend, hasPend = v, true
				continue
			}
			bw.WriteByte(byte(pend))
			bw.WriteByte(byte((pend>>8)&0x0F | ((v>>8)&0x0F)<<4))
			bw.WriteByte(byte(v))
			hasPend = false
		}
	}
	if hasPend {
		// An odd final sample is stored in two bytes.
		bw.WriteByte(byte(pend))
		bw.WriteByte(byte((pend >> 8) & 0x0F))
	}
	return bw.Flush()
}

// FormatHeader returns the text of a single-segment header for h: the
// record line, one line per signal (file, format, gain(baseline)/units,
// ADC resolution, ADC zero, initial value, checksum when HasChecksum,
// block size, description) and the comments.
func FormatHeader(h *Header) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d %s", h.Record, len(h.Signals), strconv.FormatFloat(h.Freq, 'f', -1, 64))
	if h.NumSamples > 0 {
		fmt.Fprintf(&b, " %d", h.NumSamples)
	}
	b.WriteString("\r\n")
	for _, s := range h.Signals {
		fmt.Fprintf(&b, "%s %d %s(%d)/%s %d %d %d", s.FileName, s.Format,
			strconv.FormatFloat(s.Gain, 'f', -1, 64), s.Baseline, s.Units, s.ADCRes, s.ADCZero, s.InitValue)
		if s.HasChecksum {
			fmt.Fprintf(&b, " %d %d", s.Checksum, s.BlockSize)
			if s.Description != "" {
				b.WriteString(" " + s.Description)
			}
		}
		b.WriteString("\r\n")
	}
	for _, c := range h.Comments {
		b.WriteString("# " + c + "\r\n")
	}
	return b.String()
}

// WriteRecord writes the record h.Record into dir: the signal file
// (h.Record + ".dat", all signals in h.Signals[0].Format) and then the
// header, so that a record whose header exists is complete. samples[i] are
// the raw values of signal i. The header's file names, sample count,
// initial values and checksums are set from the samples. Each file is
// written to a temporary name, synced and renamed into place.
func WriteRecord(dir string, h *Header, samples [][]int) error {
	if h.Record == "" || strings.ContainsAny(h.Record, `/\`) {
		return fmt.Errorf("wfdb: %w: record name %q", ErrWrite, h.Record)
	}
	if len(samples) != len(h.Signals) || len(samples) == 0 {
		return fmt.Errorf("wfdb: %w: %s: %d sample arrays for %d signals", ErrWrite, h.Record, len(samples), len(h.Signals))
	}
	format := h.Signals[0].Format
	dat := h.Record + ".dat"
	for i := range h.Signals {
		s := &h.Signals[i]
		if s.Format != format {
			return fmt.Errorf("wfdb: %w: %s: mixed formats %d and %d in one file", ErrWrite, h.Record, format, s.Format)
		}
		s.FileName, s.SamplesPerFrame, s.Skew, s.ByteOffset = dat, 1, 0, 0
		if s.Units == "" {
			s.Units = "mV"
		}
		sum := 0
		for _, v := range samples[i] {
			sum += v
		}
		s.Checksum, s.HasChecksum = int(int16(uint16(sum&0xFFFF))), true
		if len(samples[i]) > 0 {
			s.InitValue = samples[i][0]
		}
	}
	h.NumSamples = int64(len(samples[0]))
	if err := writeFile(filepath.Join(dir, dat), func(w io.Writer) error { return EncodeSignals(w, format, samples) }); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, h.Record+".hea"), func(w io.Writer) error {
		_, err := io.WriteString(w, FormatHeader(h))
		return err
	})
}

// EncodeAnnotations writes anns in the MIT annotation format, ending with
// the end-of-file word. Annotations must be in time order; a gap longer
// than 1023 samples is written as a SKIP, Num and Chan as NUM and CHN
// words where they change, Subtype as SUB and Aux as AUX.
func EncodeAnnotations(w io.Writer, anns []Annotation) error {
	bw := bufio.NewWriter(w)
	word := func(code, val int) {
		var b [2]byte
		binary.LittleEndian.PutUint16(b[:], uint16(code<<10|val&0x3FF))
		bw.Write(b[:])
	}
	var t int64
	num, chn := 0, 0
	for i, a := range anns {
		switch {
		case a.Sample < t:
			return fmt.Errorf("wfdb: %w: annotation %d at sample %d comes before %d", ErrWrite, i, a.Sample, t)
		case a.Code < 0 || a.Code > 49 || (a.Code == 0 && a.Sample == t):
			return fmt.Errorf("wfdb: %w: annotation %d has code %d (1..49, or 0 after a time step)", ErrWrite, i, a.Code)
		case len(a.Aux) > 255:
			return fmt.Errorf("wfdb: %w: annotation %d has a %d-byte AUX string (at most 255)", ErrWrite, i, len(a.Aux))
		}
		d := a.Sample - t
		if d > 1023 {
			if d > math.MaxInt32 {
				return fmt.Errorf("wfdb: %w: annotation %d is %d samples after the previous one", ErrWrite, i, d)
			}
			word(codeSkip, 0)
			var b [4]byte
			binary.LittleEndian.PutUint16(b[:2], uint16(uint32(d)>>16))
			binary.LittleEndian.PutUint16(b[2:], uint16(d))
			bw.Write(b[:])
			d = 0
		}
		word(a.Code, int(d))
		t = a.Sample
		if a.Subtype != 0 {
			word(codeSub, a.Subtype)
		}
		if a.Chan != chn {
			chn = a.Chan
			word(codeChn, chn)
		}
		if a.Num != num {
			num = a.Num
			word(codeNum, num)
		}
		if a.Aux != "" {
			word(codeAux, len(a.Aux))
			bw.WriteString(a.Aux)
			if len(a.Aux)%2 == 1 {
				bw.WriteByte(0)
			}
		}
	}
	word(0, 0)
	return bw.Flush()
}

// WriteAnnotationFile writes anns to path (see EncodeAnnotations) through a
// temporary file that is synced and renamed into place.
func WriteAnnotationFile(path string, anns []Annotation) error {
	return writeFile(path, func(w io.Writer) error { return EncodeAnnotations(w, anns) })
}

// writeFile writes path through a synced temporary file in the same
// directory, renamed into place.
func writeFile(path string, fill func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("wfdb: %w", err)
	}
	tmp := f.Name()
	err = fill(f)
	if err == nil {
		err = f.Chmod(0o644) // data files, readable like any other
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("wfdb: write %s: %w", filepath.Base(path), err)
	}
	return nil
}
