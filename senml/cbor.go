package senml

import (
	"encoding/binary"
	"math"

	"github.com/x448/float16"

	"medagent/telemetry"
)

// RFC 8428 §6 labels.
const (
	labelBver = -1
	labelBn   = -2
	labelBt   = -3
	labelBu   = -4
	labelBv   = -5
	labelBs   = -6
	labelN    = 0
	labelU    = 1
	labelV    = 2
	labelVs   = 3
	labelVb   = 4
	labelS    = 5
	labelT    = 6
	labelUt   = 7
	labelVd   = 8
)

const (
	majorUint  = 0 << 5
	majorNeg   = 1 << 5
	majorText  = 3 << 5
	majorArray = 4 << 5
	majorMap   = 5 << 5
)

// appendCBOR writes the pack as deterministic CBOR (RFC 8949 §4.2.1: keys in
// bytewise order of their encoding, shortest forms). Keys of a record sort as
// n(0x00) u(0x01) v(0x02) vs(0x03) vb(0x04) t(0x06) bn(0x21) bt(0x22) "seq"
// "sim".
func appendCBOR(dst []byte, p telemetry.Pack, seq uint64, bn string, bt float64) []byte {
	dst = appendHead(dst, majorArray, uint64(len(p.Records)))
	for i := range p.Records {
		r := &p.Records[i]
		n := uint64(2) // n and a value
		if r.Unit != "" {
			n++
		}
		if r.Offset != 0 {
			n++
		}
		if i == 0 {
			n += 3
		}
		if p.Simulated {
			n++
		}
		dst = appendHead(dst, majorMap, n)
		dst = appendInt(dst, labelN)
		dst = appendText(dst, r.Name)
		if r.Unit != "" {
			dst = appendInt(dst, labelU)
			dst = appendText(dst, r.Unit)
		}
		switch {
		case r.Value != nil:
			dst = appendInt(dst, labelV)
			dst = appendNumber(dst, *r.Value)
		case r.String != "":
			dst = appendInt(dst, labelVs)
			dst = appendText(dst, r.String)
		default:
			dst = appendInt(dst, labelVb)
			if *r.Bool {
				dst = append(dst, 0xf5)
			} else {
				dst = append(dst, 0xf4)
			}
		}
		if r.Offset != 0 {
			dst = appendInt(dst, labelT)
			dst = appendNumber(dst, r.Offset)
		}
		if i == 0 {
			dst = appendInt(dst, labelBn)
			dst = appendText(dst, bn)
			dst = appendInt(dst, labelBt)
			dst = appendNumber(dst, bt)
			dst = appendText(dst, "seq")
			dst = appendHead(dst, majorUint, seq)
		}
		if p.Simulated {
			dst = appendText(dst, "sim")
			dst = append(dst, 0xf5)
		}
	}
	return dst
}

func appendHead(dst []byte, major byte, v uint64) []byte {
	switch {
	case v < 24:
		return append(dst, major|byte(v))
	case v <= math.MaxUint8:
		return append(dst, major|24, byte(v))
	case v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, major|25), uint16(v))
	case v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, major|26), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(dst, major|27), v)
}

func appendInt(dst []byte, v int64) []byte {
	if v < 0 {
		return appendHead(dst, majorNeg, uint64(-1-v))
	}
	return appendHead(dst, majorUint, uint64(v))
}

func appendText(dst []byte, s string) []byte {
	return append(appendHead(dst, majorText, uint64(len(s))), s...)
}

// maxExactInt is 2^53: integers below it are exact in a float64.
const maxExactInt = 1 << 53

// appendNumber writes a finite v in its shortest exact CBOR form: an integer
// when v is integral and below 2^53 in magnitude, else the shortest of
// float16, float32 and float64 that holds v exactly.
func appendNumber(dst []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < maxExactInt && !(v == 0 && math.Signbit(v)) {
		return appendInt(dst, int64(v))
	}
	if f32 := float32(v); float64(f32) == v {
		if float16.PrecisionFromfloat32(f32) == float16.PrecisionExact {
			return binary.BigEndian.AppendUint16(append(dst, 0xf9), float16.Fromfloat32(f32).Bits())
		}
		return binary.BigEndian.AppendUint32(append(dst, 0xfa), math.Float32bits(f32))
	}
	return binary.BigEndian.AppendUint64(append(dst, 0xfb), math.Float64bits(v))
}
