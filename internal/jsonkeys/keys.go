package jsonkeys

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxDepth is the deepest nesting of arrays and objects Check accepts.
const MaxDepth = 64

// ErrKeys is wrapped by every error of Check.
var ErrKeys = errors.New("ambiguous JSON")

// Check walks the JSON value in b and refuses duplicate keys (exact, or
// differing only in case) in any object, nesting deeper than MaxDepth, and
// (when fields is not empty) any key that equals one of fields in another
// case. It does not check that b is otherwise valid beyond what it reads:
// the caller decodes it afterwards.
func Check(b []byte, fields ...string) error {
	known := make(map[string]string, len(fields))
	for _, f := range fields {
		known[fold(f)] = f
	}
	type frame struct {
		object bool
		key    bool // next string token in this object is a key
		seen   map[string]string
	}
	var stack []frame
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return nil // not JSON: the caller's decoder says why
		}
		top := len(stack) - 1
		if delim, ok := tok.(json.Delim); ok {
			switch delim {
			case '{', '[':
				if top >= 0 && stack[top].object {
					stack[top].key = true
				}
				if len(stack) >= MaxDepth {
					return fmt.Errorf("%w: nested deeper than %d levels", ErrKeys, MaxDepth)
				}
				stack = append(stack, frame{object: delim == '{', key: delim == '{'})
			case '}', ']':
				stack = stack[:top]
			}
			continue
		}
		if top < 0 || !stack[top].object {
			continue
		}
		f := &stack[top]
		if !f.key {
			f.key = true // a scalar value; a key comes next
			continue
		}
		f.key = false
		k := tok.(string)
		fk := fold(k)
		if prev, dup := f.seen[fk]; dup {
			if prev == k {
				return fmt.Errorf("%w: duplicate key %q in one object (parsers disagree on which one counts)", ErrKeys, k)
			}
			return fmt.Errorf("%w: keys %q and %q differ only in case", ErrKeys, prev, k)
		}
		if want, ok := known[fk]; ok && want != k {
			return fmt.Errorf("%w: key %q: the field is %q (field names are case-sensitive here)", ErrKeys, k, want)
		}
		if f.seen == nil {
			f.seen = map[string]string{}
		}
		f.seen[fk] = k
	}
}

// fold maps keys that encoding/json would match to one field to one
// string (it folds like strings.EqualFold, Kelvin sign and long s too).
func fold(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || 'A' <= c && c <= 'Z' {
			return strings.ToLower(strings.ToUpper(s))
		}
	}
	return s // lower-case ASCII: its own fold, without an allocation
}
