package bootenv

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sort"
	"strings"
)

// Errors a caller may check with errors.Is.
var (
	// ErrBadCRC: no copy of the environment has a valid CRC.
	ErrBadCRC = errors.New("bad CRC")
	// ErrTooLarge: the variables do not fit the environment size.
	ErrTooLarge = errors.New("environment too large")
	// ErrFormat: the bytes are not an environment of this format.
	ErrFormat = errors.New("malformed environment")
)

func headerSize(redundant bool) int {
	if redundant {
		return 5
	}
	return 4
}

// Image is one decoded copy of a U-Boot environment.
type Image struct {
	Vars map[string]string
	Flag byte // flag byte of a redundant copy; 0 for a single copy
}

// ParseUBoot decodes one copy of a U-Boot environment (the whole copy, header
// included). It fails with ErrBadCRC when the CRC does not match and with
// ErrFormat when the data has no terminating empty string.
func ParseUBoot(b []byte, redundant bool) (Image, error) {
	h := headerSize(redundant)
	if len(b) < h+2 {
		return Image{}, fmt.Errorf("bootenv: %d bytes is too short for an environment: %w", len(b), ErrFormat)
	}
	data := b[h:]
	want := binary.LittleEndian.Uint32(b[:4])
	if got := crc32.ChecksumIEEE(data); got != want {
		return Image{}, fmt.Errorf("bootenv: crc %08x, stored %08x: %w", got, want, ErrBadCRC)
	}
	img := Image{Vars: map[string]string{}}
	if redundant {
		img.Flag = b[4]
	}
	for len(data) > 0 {
		i := bytes.IndexByte(data, 0)
		if i < 0 {
			return Image{}, fmt.Errorf("bootenv: unterminated variable: %w", ErrFormat)
		}
		if i == 0 {
			return img, nil // empty string ends the environment
		}
		kv := string(data[:i])
		data = data[i+1:]
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue // libubootenv skips such entries too
		}
		img.Vars[name] = value
	}
	return Image{}, fmt.Errorf("bootenv: environment not terminated: %w", ErrFormat)
}

// EncodeUBoot encodes vars as one copy of size bytes. Variables are sorted by
// name like libubootenv stores them; unused space is zero.
func EncodeUBoot(vars map[string]string, size int, redundant bool, flag byte) ([]byte, error) {
	h := headerSize(redundant)
	if size < h+2 {
		return nil, fmt.Errorf("bootenv: size %d too small: %w", size, ErrTooLarge)
	}
	names := make([]string, 0, len(vars))
	for k := range vars {
		if err := checkName(k); err != nil {
			return nil, err
		}
		if strings.IndexByte(vars[k], 0) >= 0 {
			return nil, fmt.Errorf("bootenv: value of %q contains NUL: %w", k, ErrFormat)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	b := make([]byte, size)
	p := h
	for _, k := range names {
		n := len(k) + 1 + len(vars[k]) + 1
		if p+n+1 > size { // +1 for the terminating empty string
			return nil, fmt.Errorf("bootenv: %d variables need more than %d bytes: %w", len(vars), size, ErrTooLarge)
		}
		p += copy(b[p:], k)
		b[p] = '='
		p++
		p += copy(b[p:], vars[k])
		p++ // NUL (b is zeroed)
	}
	if redundant {
		b[4] = flag
	}
	binary.LittleEndian.PutUint32(b[:4], crc32.ChecksumIEEE(b[h:]))
	return b, nil
}

func checkName(k string) error {
	if k == "" || strings.ContainsAny(k, "=\x00") {
		return fmt.Errorf("bootenv: bad variable name %q: %w", k, ErrFormat)
	}
	return nil
}

// current picks the copy libubootenv would use given the CRC validity and
// flags of both copies (uboot_env.c libuboot_load).
func current(ok [2]bool, flags [2]byte, mode FlagMode) (int, error) {
	switch {
	case ok[0] && !ok[1]:
		return 0, nil
	case !ok[0] && ok[1]:
		return 1, nil
	case !ok[0] && !ok[1]:
		return 0, ErrBadCRC
	}
	cur := 0
	if flags[1] > flags[0] {
		cur = 1
	}
	switch mode {
	case FlagBoolean:
		if flags[1] == 0xFF {
			cur = 1
		} else if flags[0] == 0xFF {
			cur = 0
		}
	default:
		if flags[0] == 0xFF && flags[1] == 0 {
			cur = 1
		} else if flags[1] == 0xFF && flags[0] == 0 {
			cur = 0
		}
	}
	return cur, nil
}

// nextFlag is the flag byte of a new copy written after the current one.
func nextFlag(cur byte, mode FlagMode) byte {
	if mode == FlagBoolean {
		return 1
	}
	return cur + 1
}
