package senml

import (
	"math"
	"strconv"

	"medagent/telemetry"
)

func appendJSON(dst []byte, p telemetry.Pack, seq uint64, bn string, bt float64) []byte {
	dst = append(dst, '[')
	for i := range p.Records {
		r := &p.Records[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '{')
		if i == 0 {
			dst = append(dst, `"bn":`...)
			dst = appendJSONString(dst, bn)
			dst = append(dst, `,"bt":`...)
			dst = appendJSONFloat(dst, bt)
			dst = append(dst, `,"seq":`...)
			dst = strconv.AppendUint(dst, seq, 10)
			dst = append(dst, ',')
		}
		dst = append(dst, `"n":`...)
		dst = appendJSONString(dst, r.Name)
		if r.Unit != "" {
			dst = append(dst, `,"u":`...)
			dst = appendJSONString(dst, r.Unit)
		}
		switch {
		case r.Value != nil:
			dst = append(dst, `,"v":`...)
			dst = appendJSONFloat(dst, *r.Value)
		case r.Bool != nil:
			dst = append(dst, `,"vb":`...)
			dst = strconv.AppendBool(dst, *r.Bool)
		default:
			dst = append(dst, `,"vs":`...)
			dst = appendJSONString(dst, r.String)
		}
		if r.Offset != 0 {
			dst = append(dst, `,"t":`...)
			dst = appendJSONFloat(dst, r.Offset)
		}
		if p.Simulated {
			dst = append(dst, `,"sim":true`...)
		}
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// appendJSONFloat writes v like encoding/json does: plain decimal, or
// exponent form for very small and very large magnitudes. v is finite.
func appendJSONFloat(dst []byte, v float64) []byte {
	abs := math.Abs(v)
	f := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		f = 'e'
	}
	return strconv.AppendFloat(dst, v, f, -1, 64)
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string. s is valid UTF-8 (names are
// checked to be ASCII, other strings by the caller).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
