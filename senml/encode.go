package senml

import (
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"medagent/telemetry"
)

// ErrEmptyPack is returned by Encode for a pack without records: there would
// be no record to carry the base fields and "seq".
var ErrEmptyPack = errors.New("senml: pack has no records")

// Encode appends p, rendered as a SenML pack in format f, to dst and returns
// the extended slice. seq is the pack's per-stream sequence number (see the
// package doc), baseName the device URN. It checks what a receiver would
// refuse (names, exactly one value per record, finite numbers, valid UTF-8)
// and on error returns dst unchanged. With enough capacity in dst it does
// not allocate.
func Encode(dst []byte, p telemetry.Pack, seq uint64, baseName string, f Format) ([]byte, error) {
	if err := check(p, baseName); err != nil {
		return dst, err
	}
	bt := unixSeconds(p)
	switch f {
	case JSON:
		return appendJSON(dst, p, seq, baseName, bt), nil
	case CBOR:
		return appendCBOR(dst, p, seq, baseName, bt), nil
	}
	return dst, fmt.Errorf("senml: encode %q: unknown format %d", p.Stream, uint8(f))
}

func unixSeconds(p telemetry.Pack) float64 {
	return float64(p.Time.Unix()) + float64(p.Time.Nanosecond())/1e9
}

func check(p telemetry.Pack, baseName string) error {
	if len(p.Records) == 0 {
		return ErrEmptyPack
	}
	if p.Time.IsZero() {
		return fmt.Errorf("senml: encode %q: pack has no time", p.Stream)
	}
	for i := range p.Records {
		r := &p.Records[i]
		if err := checkName(baseName, r.Name); err != nil {
			return fmt.Errorf("senml: encode %q record %d: %w", p.Stream, i, err)
		}
		n := 0
		if r.Value != nil {
			n++
			if !finite(*r.Value) {
				return fmt.Errorf("senml: encode %q record %d (%s): value is not finite", p.Stream, i, r.Name)
			}
		}
		if r.String != "" {
			n++
		}
		if !utf8.ValidString(r.String) || !utf8.ValidString(r.Unit) {
			return fmt.Errorf("senml: encode %q record %d (%s): unit or string value is not valid UTF-8", p.Stream, i, r.Name)
		}
		if r.Bool != nil {
			n++
		}
		if n != 1 {
			return fmt.Errorf("senml: encode %q record %d (%s): has %d value fields, want exactly 1", p.Stream, i, r.Name, n)
		}
		if !finite(r.Offset) {
			return fmt.Errorf("senml: encode %q record %d (%s): time offset is not finite", p.Stream, i, r.Name)
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
