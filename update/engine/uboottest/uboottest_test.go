package uboottest

import (
	"os"
	"path/filepath"
	"testing"

	"medagent/update/bootenv"
	"medagent/update/slot"
)

func TestBootcountFallback(t *testing.T) {
	dir := t.TempDir()
	cfg := bootenv.Config{Copies: []bootenv.Location{{Path: filepath.Join(dir, "env"), Size: 0x1000}}, LockFile: filepath.Join(dir, "lock")}
	if err := os.WriteFile(cfg.Copies[0].Path, make([]byte, 0x1000), 0o644); err != nil {
		t.Fatal(err)
	}
	env, err := bootenv.NewUBoot(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Format(map[string]string{"bootlimit": "2", "bootcount": "0", "upgrade_available": "1", "mender_boot_part": "3"}); err != nil {
		t.Fatal(err)
	}
	slots := slot.Config{A: slot.Slot{Device: "/dev/mmcblk0p2"}, B: slot.Slot{Device: "/dev/mmcblk0p3"}, CmdlinePath: filepath.Join(dir, "cmdline")}
	b := &Board{Env: env, Slots: slots}
	// bootlimit 2: two trial boots of B, the third falls back to A.
	for i, want := range []string{"B", "B", "A", "A"} {
		s, err := b.Boot()
		if err != nil {
			t.Fatal(err)
		}
		v, _ := env.ReadEnv()
		if s.Name != want {
			t.Fatalf("boot %d: %s, want %s (env %v)", i+1, s.Name, want, v)
		}
		if i == 2 && (v["upgrade_available"] != "0" || v["mender_boot_part"] != "2" || v["mender_boot_part_hex"] != "2") {
			t.Fatalf("altbootcmd env: %v", v)
		}
		cl, _ := os.ReadFile(slots.CmdlinePath)
		if got, src, _ := slots.Active(); got.Name != want || src != "cmdline medagent.slot" {
			t.Fatalf("cmdline %q gives %s from %s", cl, got.Name, src)
		}
	}
	if v, _ := env.ReadEnv("bootcount"); v["bootcount"] != "3" {
		t.Errorf("bootcount %v, want 3 (no increments without upgrade_available)", v)
	}
	b.Comes = func(slot.Slot) bool { return false }
	if _, err := b.Boot(); err == nil {
		t.Error("a board whose slots never come up booted")
	}
}
