package slot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// CmdlineSlotParam is the kernel command-line parameter through which the
// boot loader names the slot it booted (meta-medagent's boot.cmd passes
// medagent.slot=a or medagent.slot=b).
const CmdlineSlotParam = "medagent.slot"

// Active returns the running slot from positive evidence only: the boot
// loader's medagent.slot= on the kernel command line, a root= that names a
// slot device, or the device of the root mount. Evidence that contradicts
// itself is refused, and without any the answer is ErrUnknownSlot: the
// boot environment says which slot should boot, never which one did (after
// an install and before the reboot it already names the new slot). The
// source used is returned for logs.
func (c Config) Active() (Slot, string, error) {
	c.ensureDefaults()
	if err := c.Validate(); err != nil {
		return Slot{}, "", err
	}
	b, err := os.ReadFile(c.CmdlinePath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Slot{}, "", fmt.Errorf("%w: %w", ErrUnknownSlot, err)
	}
	named, root, err := c.fromCmdline(string(b))
	if err != nil {
		return Slot{}, "", err
	}
	byRoot, rootSrc := root, "cmdline root="
	if byRoot.Name == "" {
		byRoot, rootSrc = c.fromRootDev(), "root device"
	}
	switch {
	case named.Name != "" && byRoot.Name != "" && named.Name != byRoot.Name:
		return Slot{}, "", fmt.Errorf("%w: %s=%s but the %s is slot %s's", ErrUnknownSlot, CmdlineSlotParam, strings.ToLower(named.Name), rootSrc, byRoot.Name)
	case named.Name != "":
		return named, "cmdline " + CmdlineSlotParam, nil
	case byRoot.Name != "":
		return byRoot, rootSrc, nil
	}
	return Slot{}, "", fmt.Errorf("%w: no %s= on the kernel command line (%s), root= names neither %s nor %s, and %s is not on either device (a dm-verity or overlay root?); boot with meta-medagent's boot script, which passes %s=a|b",
		ErrUnknownSlot, CmdlineSlotParam, c.CmdlinePath, c.A.Device, c.B.Device, c.RootPath, CmdlineSlotParam)
}

// fromCmdline returns the slot named by medagent.slot= and the slot whose
// device root= names (zero Slots when absent or naming no slot). A
// medagent.slot= value that names no slot is an error, not silence.
func (c Config) fromCmdline(cmdline string) (named, root Slot, err error) {
	rootArg, slotArg, haveSlot := "", "", false
	for _, f := range strings.Fields(cmdline) {
		if v, ok := strings.CutPrefix(f, "root="); ok {
			rootArg = v // the last root= wins, as in the kernel
		}
		if v, ok := strings.CutPrefix(f, CmdlineSlotParam+"="); ok {
			slotArg, haveSlot = v, true
		}
	}
	if haveSlot {
		for _, s := range []Slot{c.A, c.B} {
			if strings.EqualFold(slotArg, s.Name) {
				named = s
			}
		}
		if named.Name == "" {
			return Slot{}, Slot{}, fmt.Errorf("%w: %s=%q names neither slot %s nor %s", ErrUnknownSlot, CmdlineSlotParam, slotArg, c.A.Name, c.B.Name)
		}
	}
	if uuid, ok := strings.CutPrefix(rootArg, "PARTUUID="); ok {
		rootArg = "/dev/disk/by-partuuid/" + strings.ToLower(uuid)
	}
	if rootArg != "" {
		for _, s := range []Slot{c.A, c.B} {
			if samePath(rootArg, s.Device) {
				root = s
			}
		}
	}
	return named, root, nil
}

func samePath(a, b string) bool {
	if a == b {
		return true
	}
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

func (c Config) fromRootDev() Slot {
	var root syscall.Stat_t
	if err := syscall.Stat(c.RootPath, &root); err != nil {
		return Slot{}
	}
	for _, s := range []Slot{c.A, c.B} {
		var st syscall.Stat_t
		if err := syscall.Stat(s.Device, &st); err != nil {
			continue
		}
		if st.Mode&syscall.S_IFMT == syscall.S_IFBLK && uint64(st.Rdev) == uint64(root.Dev) {
			return s
		}
	}
	return Slot{}
}
