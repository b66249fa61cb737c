package slot

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tool finds a program the test needs (installed by scripts/setup.sh).
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		// mkfs.* and e2fsck live in /usr/sbin, not always in a user's PATH.
		if p, err = exec.LookPath(filepath.Join("/usr/sbin", name)); err != nil {
			t.Fatalf("%s not found: install Debian package %s (scripts/setup.sh)", name, pkg)
		}
	}
	return p
}

// TestInvalidatedSlotNotRecognised: a file system that fills the whole
// slot (the case where its end cannot be wiped without touching the slot
// past a bad chunk) is, after Invalidate, not recognised by the probe
// every boot path shares (blkid -p reads the primary superblock, as udev,
// U-Boot's file-system layer and the kernel's root mount do) and is
// refused by the boot-time check (e2fsck -p does not fall back to backup
// superblocks; only an operator's e2fsck without -p does). The slot's
// last MiB is left as it was: invalidate.go says why that is enough.
func TestInvalidatedSlotNotRecognised(t *testing.T) {
	blkid := tool(t, "blkid", "util-linux")
	for _, fs := range []struct {
		name, mkfs, pkg string
		args            []string
		fsck            []string // the boot-time check, when there is one
	}{
		// 1 KiB blocks: groups of 8 MiB, so the 64 MiB image has backup
		// superblocks (at 8, 24, 40 and 56 MiB).
		{"ext4", "mkfs.ext4", "e2fsprogs", []string{"-q", "-F", "-b", "1024"}, []string{"e2fsck", "-p"}},
		{"vfat", "mkfs.vfat", "dosfstools", []string{"-F", "32"}, nil},
	} {
		t.Run(fs.name, func(t *testing.T) {
			dev := filepath.Join(t.TempDir(), "slot")
			if err := os.WriteFile(dev, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(dev, 64<<20); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(tool(t, fs.mkfs, fs.pkg), append(fs.args, dev)...).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v: %s", fs.mkfs, err, out)
			}
			if out, err := exec.Command(blkid, "-p", "-o", "value", "-s", "TYPE", dev).Output(); err != nil || !strings.Contains(string(out), fs.name) {
				t.Fatalf("before Invalidate blkid says %q, %v; want %s", out, err, fs.name)
			}
			before, err := os.ReadFile(dev)
			if err != nil {
				t.Fatal(err)
			}
			if err := Invalidate(dev); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(blkid, "-p", dev).CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Errorf("after Invalidate blkid -p still finds something: %q, %v (want exit 2: nothing)", out, err)
			}
			if fs.fsck != nil {
				out, err := exec.Command(tool(t, fs.fsck[0], fs.pkg), append(fs.fsck[1:], dev)...).CombinedOutput()
				if err == nil {
					t.Errorf("%v accepted the invalidated slot: %s", fs.fsck, out)
				}
			}
			after, err := os.ReadFile(dev)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(after[InvalidateBytes:], before[InvalidateBytes:]) {
				t.Error("Invalidate touched the slot past its first MiB")
			}
			if bytes.ContainsFunc(after[:InvalidateBytes], func(r rune) bool { return r != 0 }) {
				t.Error("the first MiB is not all zeros")
			}
		})
	}
}
