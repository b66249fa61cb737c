package telemetry

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"
)

// The spool format of a pack is CBOR (RFC 8949) in its core deterministic
// form: a map with integer keys (Pack: 1 stream, 2 class, 3 time, 4
// records, 5 simulated; Record: 1 name, 2 unit, 3 value, 4 string, 5 bool,
// 6 offset), empty optional fields left out, floats in their shortest
// exact form, the time as RFC 3339 text with nanoseconds. These are the
// exact bytes github.com/fxamacker/cbor wrote for the tagged structs
// before (the tests hold both to it); written by hand because the two
// fixed shapes do not need a reflective codec, which cost the device
// binary about 300 KiB.

const (
	majUint  = 0 << 5
	majNint  = 1 << 5
	majText  = 3 << 5
	majArray = 4 << 5
	majMap   = 5 << 5
	cborF    = 0xf4
	cborT    = 0xf5
	cborNull = 0xf6

	maxRecords  = 65536 // array elements
	maxMapPairs = 64
	maxDepth    = 8 // nesting levels (the pack map is level 1), as the library had it
)

func appendHead(b []byte, major byte, n uint64) []byte {
	switch {
	case n < 24:
		return append(b, major|byte(n))
	case n <= math.MaxUint8:
		return append(b, major|24, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, major|25), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, major|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, major|27), n)
}

func appendText(b []byte, s string) []byte {
	return append(appendHead(b, majText, uint64(len(s))), s...)
}

// appendFloat writes f in the shortest of half, single and double
// precision that holds it exactly; NaN as the half 0x7e00.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, 0xf9, 0x7e, 0x00)
	case math.IsInf(f, 1):
		return append(b, 0xf9, 0x7c, 0x00)
	case math.IsInf(f, -1):
		return append(b, 0xf9, 0xfc, 0x00)
	}
	f32 := float32(f)
	if float64(f32) != f {
		return binary.BigEndian.AppendUint64(append(b, 0xfb), math.Float64bits(f))
	}
	if h, ok := half(f32); ok {
		return binary.BigEndian.AppendUint16(append(b, 0xf9), h)
	}
	return binary.BigEndian.AppendUint32(append(b, 0xfa), math.Float32bits(f32))
}

// half returns the IEEE 754 half-precision bits of f when f (finite) is
// exactly representable, subnormal halves included.
func half(f float32) (uint16, bool) {
	bits := math.Float32bits(f)
	sign := uint16(bits>>16) & 0x8000
	exp := int(bits>>23) & 0xff
	mant := bits & 0x7fffff
	if exp == 0 {
		return sign, mant == 0 // float32 subnormals are below every half
	}
	e := exp - 127
	switch {
	case e >= -14 && e <= 15: // normal half
		if mant&0x1fff != 0 {
			return 0, false
		}
		return sign | uint16(e+15)<<10 | uint16(mant>>13), true
	case e >= -24 && e < -14: // subnormal half: m × 2^-24
		m := mant | 0x800000
		shift := uint(-e - 1)
		if m&(1<<shift-1) != 0 {
			return 0, false
		}
		return sign | uint16(m>>shift), true
	}
	return 0, false
}

func fromHalf(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(mant, -24)
	case 0x1f:
		if mant == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1024+mant, exp-25)
}

func appendRecord(b []byte, r *Record) []byte {
	n := uint64(1)
	if r.Unit != "" {
		n++
	}
	if r.Value != nil {
		n++
	}
	if r.String != "" {
		n++
	}
	if r.Bool != nil {
		n++
	}
	if r.Offset != 0 {
		n++
	}
	b = appendText(append(appendHead(b, majMap, n), 1), r.Name)
	if r.Unit != "" {
		b = appendText(append(b, 2), r.Unit)
	}
	if r.Value != nil {
		b = appendFloat(append(b, 3), *r.Value)
	}
	if r.String != "" {
		b = appendText(append(b, 4), r.String)
	}
	if r.Bool != nil {
		v := byte(cborF)
		if *r.Bool {
			v = cborT
		}
		b = append(b, 5, v)
	}
	if r.Offset != 0 {
		b = appendFloat(append(b, 6), r.Offset)
	}
	return b
}

func (p *Pack) appendCBOR(b []byte) ([]byte, error) {
	n := uint64(4)
	if p.Simulated {
		n++
	}
	b = appendHead(b, majMap, n)
	b = appendText(append(b, 1), p.Stream)
	b = appendHead(append(b, 2), majUint, uint64(p.Class))
	b = append(b, 3)
	if p.Time.IsZero() {
		b = append(b, cborNull)
	} else {
		s := p.Time.Format(time.RFC3339Nano)
		if err := rfc3339Limits(s); err != nil {
			return nil, err
		}
		b = appendText(b, s)
	}
	b = append(b, 4)
	if p.Records == nil {
		b = append(b, cborNull)
	} else {
		b = appendHead(b, majArray, uint64(len(p.Records)))
		for i := range p.Records {
			b = appendRecord(b, &p.Records[i])
		}
	}
	if p.Simulated {
		b = append(b, 5, cborT)
	}
	return b, nil
}

// rfc3339Limits refuses a time RFC 3339 cannot carry: a year outside
// 0..9999 or a UTC offset of a day or more.
func rfc3339Limits(s string) error {
	if len(s) < 5 || s[4] != '-' {
		return fmt.Errorf("time %s: year outside 0..9999", s)
	}
	if s[len(s)-1] != 'Z' {
		z := s[len(s)-6:]
		if (z[0] != '+' && z[0] != '-') || z[1] > '2' || (z[1] == '2' && z[2] >= '4') {
			return fmt.Errorf("time %s: UTC offset outside -23:59..+23:59", s)
		}
	}
	return nil
}

// decoder reads the definite-length items of one pack.
type decoder struct {
	b   []byte
	off int
}

var errShort = errors.New("truncated")

// head reads an item's initial byte and argument. For major type 7 the
// argument is the raw value (a float's bits).
func (d *decoder) head() (major byte, arg uint64, err error) {
	if d.off >= len(d.b) {
		return 0, 0, errShort
	}
	ib := d.b[d.off]
	major, ai := ib&0xe0, ib&0x1f
	d.off++
	var n int
	switch {
	case ai < 24:
		return major, uint64(ai), nil
	case ai == 24:
		n = 1
	case ai == 25:
		n = 2
	case ai == 26:
		n = 4
	case ai == 27:
		n = 8
	default:
		return 0, 0, fmt.Errorf("offset %d: indefinite length or reserved value 0x%02x", d.off-1, ib)
	}
	if len(d.b)-d.off < n {
		return 0, 0, errShort
	}
	for _, c := range d.b[d.off : d.off+n] {
		arg = arg<<8 | uint64(c)
	}
	d.off += n
	if major == 7<<5 && n == 1 {
		return 0, 0, fmt.Errorf("offset %d: two-byte simple value", d.off-2)
	}
	return major, arg, nil
}

func (d *decoder) text() (string, error) {
	at := d.off
	major, n, err := d.head()
	if err != nil {
		return "", err
	}
	if major != majText {
		return "", fmt.Errorf("offset %d: want a text string", at)
	}
	if n > uint64(len(d.b)-d.off) {
		return "", errShort
	}
	s := string(d.b[d.off : d.off+int(n)])
	d.off += int(n)
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("offset %d: text string is not UTF-8", at)
	}
	return s, nil
}

func (d *decoder) float() (float64, error) {
	at := d.off
	if d.off >= len(d.b) {
		return 0, errShort
	}
	ib := d.b[d.off]
	major, arg, err := d.head()
	if err != nil {
		return 0, err
	}
	if major == 7<<5 {
		switch ib {
		case 0xf9:
			return fromHalf(uint16(arg)), nil
		case 0xfa:
			return float64(math.Float32frombits(uint32(arg))), nil
		case 0xfb:
			return math.Float64frombits(arg), nil
		}
	}
	return 0, fmt.Errorf("offset %d: want a float", at)
}

func (d *decoder) boolean() (bool, error) {
	if d.off >= len(d.b) {
		return false, errShort
	}
	switch d.b[d.off] {
	case cborF, cborT:
		d.off++
		return d.b[d.off-1] == cborT, nil
	}
	return false, fmt.Errorf("offset %d: want true or false", d.off)
}

func (d *decoder) null() bool {
	if d.off < len(d.b) && d.b[d.off] == cborNull {
		d.off++
		return true
	}
	return false
}

// mapHead reads a map's size; keys are read with key.
func (d *decoder) mapHead() (int, error) {
	at := d.off
	major, n, err := d.head()
	if err != nil {
		return 0, err
	}
	if major != majMap {
		return 0, fmt.Errorf("offset %d: want a map", at)
	}
	if n > maxMapPairs {
		return 0, fmt.Errorf("offset %d: map of %d pairs, at most %d", at, n, maxMapPairs)
	}
	return int(n), nil
}

// key reads an unsigned-integer map key, refusing one seen before.
func (d *decoder) key(seen *uint64) (uint64, error) {
	at := d.off
	major, k, err := d.head()
	if err != nil {
		return 0, err
	}
	if major != majUint || k > math.MaxInt64 {
		return 0, fmt.Errorf("offset %d: map key is not an integer 0..2^63-1", at)
	}
	if k < 64 {
		if *seen&(1<<k) != 0 {
			return 0, fmt.Errorf("offset %d: key %d twice", at, k)
		}
		*seen |= 1 << k
	}
	return k, nil
}

// skip passes over one well-formed item (a field a later version added).
func (d *decoder) skip(depth int) error {
	at := d.off
	if depth > maxDepth {
		return fmt.Errorf("offset %d: nested deeper than %d", at, maxDepth)
	}
	major, n, err := d.head()
	if err != nil {
		return err
	}
	switch major {
	case majUint, majNint:
		return nil
	case 2 << 5, majText:
		if n > uint64(len(d.b)-d.off) {
			return errShort
		}
		if major == majText && !utf8.Valid(d.b[d.off:d.off+int(n)]) {
			return fmt.Errorf("offset %d: text string is not UTF-8", at)
		}
		d.off += int(n)
		return nil
	case majArray, majMap:
		items := n
		if major == majMap {
			if n > maxMapPairs {
				return fmt.Errorf("offset %d: map of %d pairs, at most %d", at, n, maxMapPairs)
			}
			items = 2 * n
		} else if n > maxRecords {
			return fmt.Errorf("offset %d: array of %d elements, at most %d", at, n, maxRecords)
		}
		for range items {
			if err := d.skip(depth + 1); err != nil {
				return err
			}
		}
		return nil
	case 7 << 5:
		if ib := d.b[at]; ib >= cborF && ib <= 0xf7 || ib >= 0xf9 && ib <= 0xfb {
			return nil
		}
	}
	return fmt.Errorf("offset %d: unsupported item 0x%02x", at, d.b[at])
}

func (d *decoder) time() (time.Time, error) {
	if d.null() {
		return time.Time{}, nil
	}
	at := d.off
	if d.off < len(d.b) && d.b[d.off]&0xe0 == majText {
		s, err := d.text()
		if err != nil {
			return time.Time{}, err
		}
		return time.Parse(time.RFC3339, s)
	}
	// Whole Unix seconds: packs spooled by earlier versions.
	major, n, err := d.head()
	switch {
	case err != nil:
		return time.Time{}, err
	case major == majUint && n <= math.MaxInt64:
		return time.Unix(int64(n), 0), nil
	case major == majNint && n < math.MaxInt64:
		return time.Unix(-1-int64(n), 0), nil
	}
	return time.Time{}, fmt.Errorf("offset %d: want a time (RFC 3339 text or Unix seconds)", at)
}

func (d *decoder) record(r *Record) error {
	n, err := d.mapHead()
	if err != nil {
		return err
	}
	var seen uint64
	for range n {
		k, err := d.key(&seen)
		if err != nil {
			return err
		}
		switch k {
		case 1:
			r.Name, err = d.text()
		case 2:
			r.Unit, err = d.text()
		case 3:
			var v float64
			if v, err = d.float(); err == nil {
				r.Value = &v
			}
		case 4:
			r.String, err = d.text()
		case 5:
			var v bool
			if v, err = d.boolean(); err == nil {
				r.Bool = &v
			}
		case 6:
			r.Offset, err = d.float()
		default:
			err = d.skip(4)
		}
		if err != nil {
			return fmt.Errorf("record key %d: %w", k, err)
		}
	}
	return nil
}

func (d *decoder) records() ([]Record, error) {
	if d.null() {
		return nil, nil
	}
	at := d.off
	major, n, err := d.head()
	if err != nil {
		return nil, err
	}
	if major != majArray {
		return nil, fmt.Errorf("offset %d: want an array of records", at)
	}
	// Every record takes a byte at least: a count beyond what is left
	// is damage, not a reason to allocate.
	if n > maxRecords || n > uint64(len(d.b)-d.off) {
		return nil, fmt.Errorf("offset %d: %d records in %d bytes (at most %d)", at, n, len(d.b)-d.off, maxRecords)
	}
	recs := make([]Record, n)
	for i := range recs {
		if err := d.record(&recs[i]); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
	}
	return recs, nil
}

func decodePack(b []byte) (Pack, error) {
	d := &decoder{b: b}
	var p Pack
	n, err := d.mapHead()
	if err != nil {
		return Pack{}, err
	}
	var seen uint64
	for range n {
		k, err := d.key(&seen)
		if err != nil {
			return Pack{}, err
		}
		switch k {
		case 1:
			p.Stream, err = d.text()
		case 2:
			at := d.off
			var major byte
			var c uint64
			if major, c, err = d.head(); err == nil && (major != majUint || c > math.MaxUint8) {
				err = fmt.Errorf("offset %d: want a class number", at)
			}
			p.Class = Class(c)
		case 3:
			p.Time, err = d.time()
		case 4:
			p.Records, err = d.records()
		case 5:
			p.Simulated, err = d.boolean()
		default:
			err = d.skip(2)
		}
		if err != nil {
			return Pack{}, fmt.Errorf("key %d: %w", k, err)
		}
	}
	if d.off != len(b) {
		return Pack{}, fmt.Errorf("%d bytes after the pack", len(b)-d.off)
	}
	return p, nil
}
