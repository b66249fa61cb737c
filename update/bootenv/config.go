package bootenv

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Location is one copy of the U-Boot environment: one line of fw_env.config.
type Location struct {
	Path       string // device or file
	Offset     int64  // byte offset of the copy inside Path
	Size       int64  // size of the copy in bytes (header included)
	SectorSize int64  // erase sector size; 0 when not given (not used for files and block devices)
}

// FlagMode says how the flag byte of redundant copies orders them.
type FlagMode int

const (
	// FlagIncremental: the newer copy has the larger flag (with 255 -> 0 wrap).
	// libubootenv uses it for files, block devices, UBI and NAND.
	FlagIncremental FlagMode = iota
	// FlagBoolean: the active copy has flag 1, the obsolete one 0 (NOR flash
	// can only clear bits).
	FlagBoolean
)

// Config locates the U-Boot environment: one Location (single copy) or two
// (redundant copies).
type Config struct {
	Copies []Location
	Flags  FlagMode
	// LockFile is flocked around every read and write. Empty means
	// DefaultLockFile, the same file fw_printenv/fw_setenv lock, so the
	// agent and the command-line tools never interleave.
	LockFile string
}

// DefaultLockFile is the lock libubootenv's tools use.
const DefaultLockFile = "/var/lock/fw_printenv.lock"

// maxEnvSize bounds the environment size we accept from a config line.
const maxEnvSize = 16 << 20

// ReadConfigFile parses an fw_env.config file.
func ReadConfigFile(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("bootenv: open config: %w", err)
	}
	defer f.Close()
	return ParseConfig(io.LimitReader(f, 1<<20))
}

// ParseConfig parses fw_env.config text the way libubootenv 0.3 does:
// "device offset size [sectorsize [sectors]]" per line, '#' comments, the
// first two usable lines are the copies. The offset is a C integer
// (decimal, 0x hex or 0 octal); the sizes are always hexadecimal, with or
// without 0x, exactly as libubootenv's sscanf("%lli %zx %zx").
func ParseConfig(r io.Reader) (Config, error) {
	var cfg Config
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			continue // libubootenv ignores lines with fewer than 3 fields
		}
		off, err := strconv.ParseInt(f[1], 0, 64)
		if err != nil || off < 0 {
			return Config{}, fmt.Errorf("bootenv: config line %d: bad offset %q", lineNo, f[1])
		}
		size, err := parseHex(f[2])
		if err != nil || size <= 0 || size > maxEnvSize {
			return Config{}, fmt.Errorf("bootenv: config line %d: bad environment size %q (hexadecimal, 1..%#x)", lineNo, f[2], maxEnvSize)
		}
		loc := Location{Path: f[0], Offset: off, Size: size}
		if len(f) > 3 {
			ss, err := parseHex(f[3])
			if err != nil || ss < 0 {
				return Config{}, fmt.Errorf("bootenv: config line %d: bad sector size %q", lineNo, f[3])
			}
			loc.SectorSize = ss
		}
		cfg.Copies = append(cfg.Copies, loc)
		if len(cfg.Copies) == 2 {
			break
		}
	}
	if err := sc.Err(); err != nil {
		return Config{}, fmt.Errorf("bootenv: read config: %w", err)
	}
	if err := cfg.validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func parseHex(s string) (int64, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	return strconv.ParseInt(s, 16, 64)
}

func (c Config) validate() error {
	switch len(c.Copies) {
	case 1, 2:
	case 0:
		return errors.New("bootenv: config has no environment line (want \"device offset size\")")
	default:
		return fmt.Errorf("bootenv: config has %d copies, want 1 or 2", len(c.Copies))
	}
	for _, l := range c.Copies {
		if l.Path == "" {
			return errors.New("bootenv: config: empty device path")
		}
		if l.Size < int64(headerSize(true))+2 || l.Size > maxEnvSize {
			return fmt.Errorf("bootenv: config: %s: environment size %d out of range", l.Path, l.Size)
		}
		if l.Offset < 0 {
			return fmt.Errorf("bootenv: config: %s: negative offset", l.Path)
		}
	}
	if len(c.Copies) == 2 && c.Copies[0].Size != c.Copies[1].Size {
		return fmt.Errorf("bootenv: config: copies differ in size (%#x and %#x)", c.Copies[0].Size, c.Copies[1].Size)
	}
	if len(c.Copies) == 2 && c.Copies[0].Path == c.Copies[1].Path {
		a, b := c.Copies[0], c.Copies[1]
		if a.Offset < b.Offset+b.Size && b.Offset < a.Offset+a.Size {
			return fmt.Errorf("bootenv: config: copies overlap in %s", a.Path)
		}
	}
	return nil
}

// Redundant reports whether the configuration has two copies.
func (c Config) Redundant() bool { return len(c.Copies) == 2 }
