package bootenv

import (
	"bytes"
	"fmt"
	"medagent/internal/durable"
	"os"
	"sort"
	"strings"
)

// GrubHeader starts every GRUB environment block.
const GrubHeader = "# GRUB Environment Block\n"

// GrubBlockSize is the size grub-editenv creates.
const GrubBlockSize = 1024

// ParseGrub decodes a GRUB environment block. Values are unescaped the way
// GRUB's envblk does ("\\\\" -> "\\", "\\\n" -> newline).
func ParseGrub(b []byte) (map[string]string, error) {
	if !bytes.HasPrefix(b, []byte(GrubHeader)) {
		return nil, fmt.Errorf("bootenv: grub: missing %q header: %w", strings.TrimSpace(GrubHeader), ErrFormat)
	}
	vars := map[string]string{}
	rest := b[len(GrubHeader):]
	for len(rest) > 0 {
		if rest[0] == '#' { // padding or comment line
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				break
			}
			rest = rest[i+1:]
			continue
		}
		// A line ends at a newline that is not escaped.
		var line []byte
		end := -1
		for i := 0; i < len(rest); i++ {
			if rest[i] == '\\' {
				i++
				continue
			}
			if rest[i] == '\n' {
				end = i
				break
			}
		}
		if end < 0 {
			return nil, fmt.Errorf("bootenv: grub: unterminated line: %w", ErrFormat)
		}
		line, rest = rest[:end], rest[end+1:]
		name, value, ok := bytes.Cut(line, []byte("="))
		if !ok || len(name) == 0 {
			continue // GRUB ignores lines without a name
		}
		if bytes.IndexByte(line, 0) >= 0 {
			return nil, fmt.Errorf("bootenv: grub: NUL in variable: %w", ErrFormat)
		}
		vars[string(name)] = grubUnescape(value)
	}
	return vars, nil
}

func grubUnescape(v []byte) string {
	var sb strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		sb.WriteByte(v[i])
	}
	return sb.String()
}

func grubEscape(v string) string {
	r := strings.NewReplacer(`\`, `\\`, "\n", "\\\n")
	return r.Replace(v)
}

// EncodeGrub encodes vars as a GRUB environment block of size bytes
// (variables sorted by name, padding '#').
func EncodeGrub(vars map[string]string, size int) ([]byte, error) {
	names := make([]string, 0, len(vars))
	for k := range vars {
		if err := checkName(k); err != nil {
			return nil, err
		}
		if strings.ContainsAny(k, "\n#\\") {
			return nil, fmt.Errorf("bootenv: grub: bad variable name %q: %w", k, ErrFormat)
		}
		if strings.IndexByte(vars[k], 0) >= 0 {
			return nil, fmt.Errorf("bootenv: grub: value of %q contains NUL: %w", k, ErrFormat)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	var b bytes.Buffer
	b.WriteString(GrubHeader)
	for _, k := range names {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(grubEscape(vars[k]))
		b.WriteByte('\n')
	}
	if b.Len() > size {
		return nil, fmt.Errorf("bootenv: grub: %d bytes of variables exceed the %d-byte block: %w", b.Len(), size, ErrTooLarge)
	}
	for b.Len() < size {
		b.WriteByte('#')
	}
	return b.Bytes(), nil
}

// Grub is a GRUB environment block file (e.g. /boot/grub/grubenv).
type Grub struct {
	Path string
}

var _ ReadWriter = (*Grub)(nil)

func (g *Grub) read() (map[string]string, int, error) {
	b, err := os.ReadFile(g.Path)
	if err != nil {
		return nil, 0, fmt.Errorf("bootenv: grub: %w", err)
	}
	if len(b) > 1<<20 {
		return nil, 0, fmt.Errorf("bootenv: grub: %s: wrong size %d: %w", g.Path, len(b), ErrFormat)
	}
	vars, err := ParseGrub(b)
	if err != nil {
		return nil, 0, fmt.Errorf("%w (%s)", err, g.Path)
	}
	return vars, len(b), nil
}

// ReadEnv implements ReadWriter.
func (g *Grub) ReadEnv(names ...string) (map[string]string, error) {
	vars, _, err := g.read()
	if err != nil || len(names) == 0 {
		return vars, err
	}
	out := make(map[string]string, len(names))
	for _, n := range names {
		if v, ok := vars[n]; ok {
			out[n] = v
		}
	}
	return out, nil
}

// WriteEnv implements ReadWriter. The block keeps its size and is replaced
// atomically: temp file, fsync, rename, fsync of the directory.
func (g *Grub) WriteEnv(set map[string]string) error {
	vars, size, err := g.read()
	if err != nil {
		return err
	}
	for k, v := range set {
		if v == "" {
			delete(vars, k)
		} else {
			vars[k] = v
		}
	}
	b, err := EncodeGrub(vars, size)
	if err != nil {
		return err
	}
	return writeFileAtomic(g.Path, b)
}

// writeFileAtomic replaces path with b durably (internal/durable).
func writeFileAtomic(path string, b []byte) error {
	if err := durable.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("bootenv: %w", err)
	}
	return nil
}
