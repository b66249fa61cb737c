package uboottest

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"medagent/update/bootenv"
	"medagent/update/slot"
)

// Board is a simulated device.
type Board struct {
	Env   bootenv.ReadWriter
	Slots slot.Config // CmdlinePath receives the kernel command line
	// Comes reports whether the kernel and rootfs of s come up; a slot that
	// does not makes the watchdog reset the board, which boots again. nil
	// means every slot comes up.
	Comes func(s slot.Slot) bool
	// Boots counts boots, resets included.
	Boots int
}

// ErrNoBoot: the board reset too often without reaching user space.
var ErrNoBoot = errors.New("uboottest: board does not boot")

// Boot powers the board on (or resets it) and returns the slot whose
// user space came up.
func (b *Board) Boot() (slot.Slot, error) {
	for reset := 0; reset < 8; reset++ {
		b.Boots++
		s, err := b.bootOnce()
		if err != nil {
			return slot.Slot{}, err
		}
		if b.Comes != nil && !b.Comes(s) {
			continue // hangs; the watchdog resets the board
		}
		if err := os.WriteFile(b.Slots.CmdlinePath, []byte("console=ttyS0 root="+s.Device+" rootwait medagent.slot="+strings.ToLower(s.Name)+"\n"), 0o644); err != nil {
			return slot.Slot{}, fmt.Errorf("uboottest: %w", err)
		}
		return s, nil
	}
	return slot.Slot{}, ErrNoBoot
}

func (b *Board) bootOnce() (slot.Slot, error) {
	env, err := b.Env.ReadEnv()
	if err != nil {
		return slot.Slot{}, fmt.Errorf("uboottest: U-Boot cannot read its environment: %w", err)
	}
	if env["upgrade_available"] == "1" {
		n, _ := strconv.Atoi(env["bootcount"])
		n++
		env["bootcount"] = strconv.Itoa(n)
		if err := b.Env.WriteEnv(map[string]string{"bootcount": env["bootcount"]}); err != nil {
			return slot.Slot{}, fmt.Errorf("uboottest: saveenv: %w", err)
		}
		limit, err := strconv.Atoi(env["bootlimit"])
		if err != nil {
			limit = 1 // meta-mender's default
		}
		if n > limit {
			// altbootcmd: mender_altbootcmd switches the slot.
			cur, ok := b.Slots.ByPart(env["mender_boot_part"])
			if !ok {
				return slot.Slot{}, fmt.Errorf("uboottest: mender_boot_part=%q is no slot", env["mender_boot_part"])
			}
			alt := b.Slots.Other(cur)
			set := map[string]string{"mender_boot_part": alt.Part, "upgrade_available": "0"}
			if n, err := strconv.ParseUint(alt.Part, 10, 16); err == nil {
				set["mender_boot_part_hex"] = strconv.FormatUint(n, 16)
			}
			if err := b.Env.WriteEnv(set); err != nil {
				return slot.Slot{}, fmt.Errorf("uboottest: saveenv: %w", err)
			}
			env["mender_boot_part"] = alt.Part
		}
	}
	s, ok := b.Slots.ByPart(env["mender_boot_part"])
	if !ok {
		return slot.Slot{}, fmt.Errorf("uboottest: mender_boot_part=%q is no slot", env["mender_boot_part"])
	}
	return s, nil
}
