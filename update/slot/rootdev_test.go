package slot

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// rootBlockDevice finds the block device in /dev that holds "/", if any
// (none in containers whose root is an overlay).
func rootBlockDevice(t *testing.T) string {
	var root syscall.Stat_t
	if err := syscall.Stat("/", &root); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir("/dev")
	for _, e := range ents {
		p := filepath.Join("/dev", e.Name())
		var st syscall.Stat_t
		if syscall.Stat(p, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFBLK && uint64(st.Rdev) == uint64(root.Dev) {
			return p
		}
	}
	return ""
}

// TestActiveFromRootDevice: without a usable root= the device numbers of
// the root mount decide.
func TestActiveFromRootDevice(t *testing.T) {
	dev := rootBlockDevice(t)
	dir := t.TempDir()
	other := filepath.Join(dir, "other-slot")
	os.WriteFile(other, nil, 0o644)
	cfg := Config{B: Slot{Device: other, Part: "3"}, CmdlinePath: filepath.Join(dir, "no-cmdline"), RootPath: "/"}
	if dev == "" {
		t.Logf("no block device holds / here; checking that nothing matches")
		cfg.A = Slot{Device: filepath.Join(dir, "not-a-device"), Part: "2"}
		if _, _, err := cfg.Active(); err == nil {
			t.Fatal("a slot matched although / is on no block device")
		}
		return
	}
	cfg.A = Slot{Device: dev, Part: "2"}
	s, src, err := cfg.Active()
	if err != nil || s.Name != "A" || src != "root device" {
		t.Fatalf("Active = %s from %s, %v; want A from the root device (%s)", s.Name, src, err, dev)
	}
}
