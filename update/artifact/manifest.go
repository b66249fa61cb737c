package artifact

import (
	"archive/tar"
	"bytes"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// manifest holds the signed sha256 of every member and payload file, and
// which of them the reader has matched so far.
type manifest struct {
	sums map[string][32]byte
	used map[string]bool
}

// parseManifest parses sha256sum-style lines "<64 hex>  <name>\n".
func parseManifest(b []byte) (*manifest, error) {
	m := &manifest{sums: map[string][32]byte{}, used: map[string]bool{}}
	if len(b) == 0 {
		return nil, fmt.Errorf("artifact: manifest: empty: %w", ErrFormat)
	}
	if b[len(b)-1] != '\n' {
		b = append(b[:len(b):len(b)], '\n')
	}
	for i, line := range bytes.Split(b[:len(b)-1], []byte("\n")) {
		if len(line) < 64+2+1 || line[64] != ' ' || line[65] != ' ' {
			return nil, fmt.Errorf("artifact: manifest line %d: want \"<sha256>  <name>\": %w", i+1, ErrFormat)
		}
		var sum [32]byte
		if _, err := hex.Decode(sum[:], line[:64]); err != nil {
			return nil, fmt.Errorf("artifact: manifest line %d: bad sha256: %w", i+1, ErrFormat)
		}
		name := string(line[66:])
		if !validName(name) {
			return nil, fmt.Errorf("artifact: manifest line %d: bad name %q: %w", i+1, name, ErrFormat)
		}
		if _, dup := m.sums[name]; dup {
			return nil, fmt.Errorf("artifact: manifest: duplicate entry %q: %w", name, ErrFormat)
		}
		m.sums[name] = sum
	}
	return m, nil
}

// plainFile reports a tar entry that is a regular file stored as it is:
// not a link, device or directory, and not a GNU sparse file (whose holes
// the tar reader would expand to a declared size of any length without
// reading a byte; Mender artifacts never hold one).
func plainFile(th *tar.Header) bool {
	if th.Typeflag != tar.TypeReg {
		return false
	}
	for k := range th.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return false
		}
	}
	return true
}

// validName accepts relative slash-separated names without empty, "." or
// ".." elements and without control characters.
func validName(name string) bool {
	if name == "" || len(name) > 1024 {
		return false
	}
	if !printable(name) || strings.ContainsRune(name, '\\') {
		return false
	}
	for _, el := range strings.Split(name, "/") {
		if el == "" || el == "." || el == ".." {
			return false
		}
	}
	return true
}

// printable reports a string that can be shown to an operator (inspect,
// logs, audit, error messages) as it is: valid UTF-8 without control
// characters (C0, DEL, C1: terminal escapes), bidirectional formatting
// characters (text that reads other than it is) or line and paragraph
// separators. Mender's own writer never puts any of them in a header.
func printable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}

// checkText refuses a header value that is not printable, naming where.
func checkText(where string, vals ...string) error {
	for _, v := range vals {
		if !printable(v) {
			return fmt.Errorf("artifact: %s %q holds a control, bidirectional-formatting or invalid UTF-8 character: %w", where, v, ErrFormat)
		}
	}
	return nil
}

// take returns the signed sum for name and marks it used; a second take of
// the same name or a name not in the manifest is an error.
func (m *manifest) take(name string) ([32]byte, error) {
	sum, ok := m.sums[name]
	if !ok {
		return sum, fmt.Errorf("artifact: %q is not listed in the manifest: %w", name, ErrUnexpectedMember)
	}
	if m.used[name] {
		return sum, fmt.Errorf("artifact: %q appears twice: %w", name, ErrUnexpectedMember)
	}
	m.used[name] = true
	return sum, nil
}

// unused returns the manifest entries not matched by any content, sorted.
func (m *manifest) unused() []string {
	var out []string
	for name := range m.sums {
		if !m.used[name] {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// files returns the names of payload i's files the manifest lists, sorted.
func (m *manifest) files(i int) []string {
	prefix := fmt.Sprintf("data/%04d/", i)
	var out []string
	for name := range m.sums {
		if f, ok := strings.CutPrefix(name, prefix); ok {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// has reports whether name is listed.
func (m *manifest) has(name string) bool {
	_, ok := m.sums[name]
	return ok
}
