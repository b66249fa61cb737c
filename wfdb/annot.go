package wfdb

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
)

// Pseudo-annotation codes of the MIT annotation format.
const (
	codeSkip = 59
	codeNum  = 60
	codeSub  = 61
	codeChn  = 62
	codeAux  = 63
)

// MaxAnnotations bounds how many annotations ReadAnnotations returns.
const MaxAnnotations = 1 << 22

// Annotation is one decoded annotation.
type Annotation struct {
	Sample  int64  // sample number (time) of the annotation
	Code    int    // annotation code, 0..49 (see Mnemonic)
	Subtype int    // "subtyp" field
	Chan    int    // "chan" field
	Num     int    // "num" field
	Aux     string // auxiliary information ("" if none), e.g. "(VFL"
}

// Mnemonic returns the standard mnemonic of the annotation's code.
func (a Annotation) Mnemonic() string { return Mnemonic(a.Code) }

// mnemonics are the standard WFDB annotation mnemonics indexed by code
// (ecgcodes / annot(5)); "" marks codes without a defined meaning.
var mnemonics = [...]string{
	0: " ", 1: "N", 2: "L", 3: "R", 4: "a", 5: "V", 6: "F", 7: "J", 8: "A", 9: "S",
	10: "E", 11: "j", 12: "/", 13: "Q", 14: "~", 16: "|", 18: "s", 19: "T",
	20: "*", 21: "D", 22: "\"", 23: "=", 24: "p", 25: "B", 26: "^", 27: "t", 28: "+", 29: "u",
	30: "?", 31: "!", 32: "[", 33: "]", 34: "e", 35: "n", 36: "@", 37: "x", 38: "f", 39: "(",
	40: ")", 41: "r", 49: "",
}

// Mnemonic returns the standard mnemonic of an annotation code, or "[n]"
// for a code without one.
func Mnemonic(code int) string {
	if code >= 0 && code < len(mnemonics) && mnemonics[code] != "" {
		return mnemonics[code]
	}
	return "[" + strconv.Itoa(code) + "]"
}

// ReadAnnotationFile reads an MIT-format annotation file such as 100.atr.
func ReadAnnotationFile(path string) ([]Annotation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("wfdb: %w", err)
	}
	defer f.Close()
	return ReadAnnotations(f, path)
}

// ReadAnnotations decodes MIT-format annotations from r until the
// end-of-file word (or the end of the input, which some writers leave
// without the final zero word). name is used in error messages.
//
// Each word is a little-endian uint16: code = w>>10, value = w&0x3FF. A
// code 1..49 (or 0 with a nonzero value) starts an annotation whose time is
// the previous time plus value. SKIP adds the following 32-bit value (two
// words, high first) to the time of the next annotation; NUM, SUB, CHN and
// AUX set fields of the annotation before them; NUM and CHN carry over to
// later annotations. AUX's value is a byte count, padded to even; the string ends at
// the first NUL byte.
func ReadAnnotations(r io.Reader, name string) ([]Annotation, error) {
	ar := annReader{r: r, name: name}
	var out []Annotation
	var t int64
	num, chn := 0, 0
	for {
		w, err := ar.word()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		code, val := int(w>>10), int(w&0x3FF)
		switch code {
		case 0:
			if val == 0 {
				return out, nil
			}
			fallthrough
		default:
			if code >= 50 && code < codeSkip {
				return nil, ar.errf("undefined annotation code %d", code)
			}
			if len(out) >= MaxAnnotations {
				return nil, ar.errf("more than %d annotations", MaxAnnotations)
			}
			t += int64(val)
			out = append(out, Annotation{Sample: t, Code: code, Num: num, Chan: chn})
		case codeSkip:
			hi, err := ar.word()
			if err != nil {
				return nil, ar.truncated(err, "SKIP interval")
			}
			lo, err := ar.word()
			if err != nil {
				return nil, ar.truncated(err, "SKIP interval")
			}
			t += int64(int32(uint32(hi)<<16 | uint32(lo)))
			if t < 0 {
				return nil, ar.errf("SKIP makes the annotation time negative (%d)", t)
			}
		case codeNum, codeSub, codeChn, codeAux:
			if len(out) == 0 {
				return nil, ar.errf("modifier code %d before any annotation", code)
			}
			a := &out[len(out)-1]
			switch code {
			case codeNum:
				num = signExtend10(val)
				a.Num = num
			case codeSub:
				a.Subtype = signExtend10(val)
			case codeChn:
				chn = val
				a.Chan = chn
			case codeAux:
				s, err := ar.aux(val)
				if err != nil {
					return nil, err
				}
				a.Aux = s
			}
		}
	}
}

func signExtend10(v int) int {
	if v&0x200 != 0 {
		return v - 0x400
	}
	return v
}

// annReader reads words and AUX strings and tracks the byte offset for
// error messages.
type annReader struct {
	r      io.Reader
	name   string
	off    int64
	b      [2]byte
	auxBuf [1024]byte
}

func (ar *annReader) word() (uint16, error) {
	n, err := io.ReadFull(ar.r, ar.b[:])
	ar.off += int64(n)
	switch {
	case err == io.EOF:
		return 0, io.EOF
	case err == io.ErrUnexpectedEOF:
		return 0, ar.errTrunc("odd byte at the end of the file")
	case err != nil:
		return 0, fmt.Errorf("wfdb: %s: read: %w", ar.name, err)
	}
	return uint16(ar.b[0]) | uint16(ar.b[1])<<8, nil
}

func (ar *annReader) aux(n int) (string, error) {
	padded := n + n&1
	got, err := io.ReadFull(ar.r, ar.auxBuf[:padded])
	ar.off += int64(got)
	if err != nil {
		return "", ar.truncated(err, fmt.Sprintf("AUX string of %d bytes", n))
	}
	b := ar.auxBuf[:n]
	// Writers count a terminating NUL in the length; the string ends there,
	// as it does for the C library.
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b), nil
}

func (ar *annReader) truncated(err error, what string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return ar.errTrunc("file ends inside " + what)
	}
	return err
}

func (ar *annReader) errTrunc(msg string) error {
	return fmt.Errorf("wfdb: %s at byte %d: %w: %s", ar.name, ar.off, ErrTruncated, msg)
}

func (ar *annReader) errf(format string, args ...any) error {
	return fmt.Errorf("wfdb: %s at byte %d: %w: %s", ar.name, ar.off, ErrFormat, fmt.Sprintf(format, args...))
}
