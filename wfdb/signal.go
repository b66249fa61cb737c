package wfdb

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Storage formats this package decodes.
const (
	Format16  = 16
	Format212 = 212
)

// defaultADCRes is the ADC resolution assumed when a header gives 0.
func defaultADCRes(format int) int {
	switch format {
	case Format212:
		return 12
	case Format16:
		return 16
	}
	return 0
}

// parseSignalLine parses
//
//	file format[xspf][:skew][+offset] [gain[(baseline)][/units] [adcres [adczero [initval [checksum [blocksize [description]]]]]]]
//
// where the description is the rest of the line.
func parseSignalLine(t string) (Signal, error) {
	var s Signal
	fields, desc := splitFields(t, 8)
	if len(fields) < 2 {
		return s, fmt.Errorf("%w: signal line needs at least a file name and a format", ErrFormat)
	}
	s.FileName = fields[0]
	if err := parseFormatField(fields[1], &s); err != nil {
		return s, err
	}
	s.Gain = DefaultGain
	s.Units = "mV"
	hasBaseline := false
	if len(fields) > 2 {
		var err error
		hasBaseline, err = parseGainField(fields[2], &s)
		if err != nil {
			return s, err
		}
	}
	ints := []*int{&s.ADCRes, &s.ADCZero, &s.InitValue, &s.Checksum, &s.BlockSize}
	names := []string{"ADC resolution", "ADC zero", "initial value", "checksum", "block size"}
	for i := range ints {
		if len(fields) <= 3+i {
			break
		}
		v, err := strconv.Atoi(fields[3+i])
		if err != nil || v < math.MinInt32 || v > math.MaxInt32 {
			return s, fmt.Errorf("%w: bad %s %q", ErrFormat, names[i], fields[3+i])
		}
		*ints[i] = v
		if i == 3 {
			s.HasChecksum = true
		}
	}
	if len(fields) <= 5 {
		s.InitValue = s.ADCZero
	}
	if !hasBaseline {
		s.Baseline = s.ADCZero
	}
	if s.ADCRes == 0 {
		s.ADCRes = defaultADCRes(s.Format)
	}
	if s.ADCRes < 0 || s.ADCRes > 32 {
		return s, fmt.Errorf("%w: ADC resolution %d out of range", ErrFormat, s.ADCRes)
	}
	if s.BlockSize < 0 {
		return s, fmt.Errorf("%w: negative block size %d", ErrFormat, s.BlockSize)
	}
	s.Description = desc
	return s, nil
}

// splitFields returns up to n whitespace-separated fields and the rest of
// the line (trimmed) after them.
func splitFields(t string, n int) ([]string, string) {
	var out []string
	rest := strings.TrimSpace(t)
	for len(out) < n && rest != "" {
		i := strings.IndexAny(rest, " \t")
		if i < 0 {
			out = append(out, rest)
			rest = ""
			break
		}
		out = append(out, rest[:i])
		rest = strings.TrimLeft(rest[i:], " \t")
	}
	return out, rest
}

// parseFormatField parses "format[xspf][:skew][+offset]".
func parseFormatField(f string, s *Signal) error {
	s.SamplesPerFrame = 1
	end := strings.IndexAny(f, "x:+")
	if end < 0 {
		end = len(f)
	}
	v, err := strconv.Atoi(f[:end])
	if err != nil || v < 0 {
		return fmt.Errorf("%w: bad format %q", ErrFormat, f)
	}
	s.Format = v
	rest := f[end:]
	for rest != "" {
		tag := rest[0]
		rest = rest[1:]
		j := strings.IndexAny(rest, "x:+")
		if j < 0 {
			j = len(rest)
		}
		num, err := strconv.ParseInt(rest[:j], 10, 64)
		if err != nil || num < 0 || num > math.MaxInt32 {
			return fmt.Errorf("%w: bad format modifier in %q", ErrFormat, f)
		}
		switch tag {
		case 'x':
			if num < 1 {
				return fmt.Errorf("%w: samples per frame must be at least 1 in %q", ErrFormat, f)
			}
			s.SamplesPerFrame = int(num)
		case ':':
			s.Skew = int(num)
		case '+':
			s.ByteOffset = num
		}
		rest = rest[j:]
	}
	return nil
}

// parseGainField parses "gain[(baseline)][/units]" and reports whether a
// baseline was given. A gain of 0 means DefaultGain.
func parseGainField(f string, s *Signal) (bool, error) {
	g, units, hasUnits := strings.Cut(f, "/")
	if hasUnits {
		if units == "" {
			return false, fmt.Errorf("%w: empty units in %q", ErrFormat, f)
		}
		s.Units = units
	}
	hasBaseline := false
	if i := strings.IndexByte(g, '('); i >= 0 {
		b, ok := strings.CutSuffix(g[i+1:], ")")
		if !ok {
			return false, fmt.Errorf("%w: unclosed baseline in gain %q", ErrFormat, f)
		}
		v, err := strconv.Atoi(b)
		if err != nil || v < math.MinInt32 || v > math.MaxInt32 {
			return false, fmt.Errorf("%w: bad baseline in gain %q", ErrFormat, f)
		}
		s.Baseline = v
		hasBaseline = true
		g = g[:i]
	}
	v, err := strconv.ParseFloat(g, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return false, fmt.Errorf("%w: bad gain %q", ErrFormat, f)
	}
	if v == 0 {
		v = DefaultGain
	}
	s.Gain = v
	return hasBaseline, nil
}
