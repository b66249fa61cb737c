package slot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"medagent/update/bootenv"
)

// Slot is one root filesystem slot.
type Slot struct {
	Name   string `json:"name" yaml:"name"`     // "A" or "B"
	Device string `json:"device" yaml:"device"` // block device (or file in tests)
	Part   string `json:"part" yaml:"part"`     // value of mender_boot_part when this slot boots, e.g. "2"
}

// Config describes both slots and where to look for the running one.
type Config struct {
	A Slot `yaml:"a"`
	B Slot `yaml:"b"`
	// CmdlinePath is the kernel command line; "" means /proc/cmdline.
	CmdlinePath string `yaml:"cmdline_path"`
	// RootPath is the mount point of the running root; "" means "/".
	RootPath string `yaml:"root_path"`
}

// ErrUnknownSlot: the running slot cannot be determined.
var ErrUnknownSlot = errors.New("slot: cannot tell the running slot")

func (c *Config) ensureDefaults() {
	if c.A.Name == "" {
		c.A.Name = "A"
	}
	if c.B.Name == "" {
		c.B.Name = "B"
	}
	if c.A.Part == "" {
		c.A.Part = trailingDigits(c.A.Device)
	}
	if c.B.Part == "" {
		c.B.Part = trailingDigits(c.B.Device)
	}
	if c.CmdlinePath == "" {
		c.CmdlinePath = "/proc/cmdline"
	}
	if c.RootPath == "" {
		c.RootPath = "/"
	}
}

// Validate checks that both slots are usable and distinct.
func (c Config) Validate() error {
	c.ensureDefaults()
	for _, s := range []Slot{c.A, c.B} {
		if s.Device == "" {
			return fmt.Errorf("slot: %s: no device configured", s.Name)
		}
		if s.Part == "" {
			return fmt.Errorf("slot: %s: no boot partition number (set part, or use a device name ending in its number)", s.Name)
		}
	}
	if c.A.Device == c.B.Device || c.A.Part == c.B.Part {
		return fmt.Errorf("slot: A and B must differ (devices %s, %s; parts %s, %s)", c.A.Device, c.B.Device, c.A.Part, c.B.Part)
	}
	return nil
}

func trailingDigits(s string) string {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	return s[i:]
}

// ByPart returns the slot booted with mender_boot_part=part.
func (c Config) ByPart(part string) (Slot, bool) {
	c.ensureDefaults()
	switch part {
	case c.A.Part:
		return c.A, true
	case c.B.Part:
		return c.B, true
	}
	return Slot{}, false
}

// Other returns the slot that is not s.
func (c Config) Other(s Slot) Slot {
	c.ensureDefaults()
	if s.Name == c.A.Name {
		return c.B
	}
	return c.A
}

// Active returns the running slot: from the kernel command line, then from
// the device of the root mount, then from env's mender_boot_part (env may be
// nil). The source used is returned for logs.
func (c Config) Active(env bootenv.ReadWriter) (Slot, string, error) {
	c.ensureDefaults()
	if err := c.Validate(); err != nil {
		return Slot{}, "", err
	}
	if s, ok := c.fromCmdline(); ok {
		return s, "cmdline", nil
	}
	if s, ok := c.fromRootDev(); ok {
		return s, "rootdev", nil
	}
	if env != nil {
		v, err := env.ReadEnv("mender_boot_part")
		if err != nil {
			return Slot{}, "", fmt.Errorf("%w: %w", ErrUnknownSlot, err)
		}
		if s, ok := c.ByPart(v["mender_boot_part"]); ok {
			return s, "bootenv", nil
		}
		return Slot{}, "", fmt.Errorf("%w: mender_boot_part=%q matches neither %s nor %s", ErrUnknownSlot, v["mender_boot_part"], c.A.Part, c.B.Part)
	}
	return Slot{}, "", ErrUnknownSlot
}

func (c Config) fromCmdline() (Slot, bool) {
	b, err := os.ReadFile(c.CmdlinePath)
	if err != nil {
		return Slot{}, false
	}
	root := ""
	for _, f := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(f, "root="); ok {
			root = v // the last root= wins, as in the kernel
		}
	}
	if root == "" {
		return Slot{}, false
	}
	if uuid, ok := strings.CutPrefix(root, "PARTUUID="); ok {
		root = "/dev/disk/by-partuuid/" + strings.ToLower(uuid)
	}
	for _, s := range []Slot{c.A, c.B} {
		if samePath(root, s.Device) {
			return s, true
		}
	}
	return Slot{}, false
}

func samePath(a, b string) bool {
	if a == b {
		return true
	}
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

func (c Config) fromRootDev() (Slot, bool) {
	var root syscall.Stat_t
	if err := syscall.Stat(c.RootPath, &root); err != nil {
		return Slot{}, false
	}
	for _, s := range []Slot{c.A, c.B} {
		var st syscall.Stat_t
		if err := syscall.Stat(s.Device, &st); err != nil {
			continue
		}
		if st.Mode&syscall.S_IFMT == syscall.S_IFBLK && uint64(st.Rdev) == uint64(root.Dev) {
			return s, true
		}
	}
	return Slot{}, false
}
