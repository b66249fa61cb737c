package wfdb

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultGain is the ADC gain (units per mV) assumed when a header gives
// none or gives 0, as the WFDB specification prescribes.
const DefaultGain = 200

// MaxSignals bounds the signal count a header may declare.
const MaxSignals = 64

// maxHeaderBytes bounds how much of a .hea file is read.
const maxHeaderBytes = 1 << 20

// ErrFormat is wrapped by every error about malformed input bytes.
var ErrFormat = errors.New("malformed WFDB data")

// ErrUnsupported is wrapped when a file is well formed but uses a feature
// this package does not implement (another storage format, multi-segment
// records, signals spread over several files).
var ErrUnsupported = errors.New("unsupported WFDB feature")

// Header is a parsed single-segment WFDB header (.hea).
type Header struct {
	Record      string   // record name
	Freq        float64  // sampling frequency per signal, Hz (default 250)
	CounterFreq float64  // counter frequency, Hz (0 if absent)
	BaseCounter float64  // base counter value
	NumSamples  int64    // samples per signal, 0 if unknown
	BaseTime    string   // base time as written, "" if absent
	BaseDate    string   // base date as written, "" if absent
	Signals     []Signal // one per signal line, in order
	Comments    []string // "#" lines, without the "#" and surrounding space
}

// Signal describes one signal line of a header.
type Signal struct {
	FileName        string
	Format          int
	SamplesPerFrame int   // 1 unless the format field says "x N"
	Skew            int   // samples of skew, 0 if absent
	ByteOffset      int64 // bytes to skip at the start of the file
	Gain            float64
	Baseline        int
	Units           string // "mV" if absent
	ADCRes          int    // bits
	ADCZero         int
	InitValue       int
	Checksum        int  // 16-bit signed sum of all samples
	HasChecksum     bool // whether the header gave a checksum
	BlockSize       int
	Description     string
}

// Physical converts a raw ADC value of this signal to physical units.
func (s Signal) Physical(v int) float64 {
	return float64(v-s.Baseline) / s.Gain
}

// FindSignal returns the index of the first signal whose description equals
// desc (case-insensitive), or -1.
func (h *Header) FindSignal(desc string) int {
	for i, s := range h.Signals {
		if strings.EqualFold(strings.TrimSpace(s.Description), desc) {
			return i
		}
	}
	return -1
}

// ReadHeader reads and parses the header of the record at path. path may
// name the record with or without the ".hea" extension.
func ReadHeader(path string) (*Header, error) {
	path = strings.TrimSuffix(path, ".hea") + ".hea"
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("wfdb: %w", err)
	}
	defer f.Close()
	return ParseHeader(f, filepath.Base(path))
}

// ParseHeader parses header text. name is used in error messages.
func ParseHeader(r io.Reader, name string) (*Header, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxHeaderBytes))
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	var h *Header
	nsig := 0
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		t := strings.TrimSpace(text)
		if t == "" {
			continue
		}
		if strings.HasPrefix(t, "#") {
			if h != nil {
				h.Comments = append(h.Comments, strings.TrimSpace(t[1:]))
			}
			continue
		}
		if h == nil {
			var err error
			h, nsig, err = parseRecordLine(t)
			if err != nil {
				return nil, fmt.Errorf("wfdb: %s line %d: %w", name, line, err)
			}
			continue
		}
		if len(h.Signals) == nsig {
			// Lines after the signal specifications that are not
			// comments are not part of a single-segment header.
			return nil, fmt.Errorf("wfdb: %s line %d: %w: more signal lines than the %d declared", name, line, ErrFormat, nsig)
		}
		s, err := parseSignalLine(t)
		if err != nil {
			return nil, fmt.Errorf("wfdb: %s line %d: %w", name, line, err)
		}
		h.Signals = append(h.Signals, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("wfdb: %s: %w: %w", name, ErrFormat, err)
	}
	if h == nil {
		return nil, fmt.Errorf("wfdb: %s: %w: no record line", name, ErrFormat)
	}
	if len(h.Signals) != nsig {
		return nil, fmt.Errorf("wfdb: %s: %w: record line declares %d signals, found %d signal lines", name, ErrFormat, nsig, len(h.Signals))
	}
	return h, nil
}

func parseRecordLine(t string) (*Header, int, error) {
	f := strings.Fields(t)
	h := &Header{Freq: 250}
	name := f[0]
	if i := strings.IndexByte(name, '/'); i >= 0 {
		return nil, 0, fmt.Errorf("%w: multi-segment record %q", ErrUnsupported, name)
	}
	h.Record = name
	if len(f) < 2 {
		return nil, 0, fmt.Errorf("%w: record line has no signal count", ErrFormat)
	}
	nsig, err := strconv.Atoi(f[1])
	if err != nil || nsig < 0 || nsig > MaxSignals {
		return nil, 0, fmt.Errorf("%w: bad signal count %q (0..%d)", ErrFormat, f[1], MaxSignals)
	}
	if len(f) > 2 {
		if err := parseFreq(f[2], h); err != nil {
			return nil, 0, err
		}
	}
	if len(f) > 3 {
		n, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil || n < 0 {
			return nil, 0, fmt.Errorf("%w: bad sample count %q", ErrFormat, f[3])
		}
		h.NumSamples = n
	}
	if len(f) > 4 {
		h.BaseTime = f[4]
	}
	if len(f) > 5 {
		h.BaseDate = f[5]
	}
	return h, nsig, nil
}

// parseFreq parses "fs[/cfreq[(base)]]".
func parseFreq(s string, h *Header) error {
	fs, rest, _ := strings.Cut(s, "/")
	v, err := strconv.ParseFloat(fs, 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return fmt.Errorf("%w: bad sampling frequency %q", ErrFormat, s)
	}
	h.Freq = v
	if rest == "" {
		return nil
	}
	cf, base, hasBase := strings.Cut(rest, "(")
	c, err := strconv.ParseFloat(cf, 64)
	if err != nil || c < 0 || math.IsInf(c, 0) {
		return fmt.Errorf("%w: bad counter frequency %q", ErrFormat, s)
	}
	h.CounterFreq = c
	if hasBase {
		b, ok := strings.CutSuffix(base, ")")
		if !ok {
			return fmt.Errorf("%w: unclosed base counter in %q", ErrFormat, s)
		}
		bc, err := strconv.ParseFloat(b, 64)
		if err != nil || math.IsInf(bc, 0) || math.IsNaN(bc) {
			return fmt.Errorf("%w: bad base counter %q", ErrFormat, s)
		}
		h.BaseCounter = bc
	}
	return nil
}
