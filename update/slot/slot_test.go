package slot

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestActive(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "rootfs2"), filepath.Join(dir, "rootfs3")
	os.WriteFile(a, nil, 0o644)
	os.WriteFile(b, nil, 0o644)
	link := filepath.Join(dir, "by-label-b")
	os.Symlink(b, link)
	cmdline := filepath.Join(dir, "cmdline")
	cfg := Config{A: Slot{Device: a}, B: Slot{Device: b}, CmdlinePath: cmdline, RootPath: dir}

	for _, tc := range []struct {
		name, cmdline string
		want, source  string
		err           bool
	}{
		{"cmdline A", "console=ttyS0 root=" + a + " rw", "A", "cmdline root=", false},
		{"cmdline B via symlink", "root=" + link, "B", "cmdline root=", false},
		{"last root wins", "root=" + a + " root=" + b, "B", "cmdline root=", false},
		{"boot loader names B", "root=/dev/mapper/verity medagent.slot=b quiet", "B", "cmdline medagent.slot", false},
		{"boot loader names A, upper case", "medagent.slot=A", "A", "cmdline medagent.slot", false},
		{"boot loader and root agree", "root=" + b + " medagent.slot=b", "B", "cmdline medagent.slot", false},
		{"boot loader and root contradict", "root=" + a + " medagent.slot=b", "", "", true},
		{"boot loader names no slot", "medagent.slot=c root=" + a, "", "", true},
		{"empty medagent.slot", "medagent.slot= root=" + a, "", "", true},
		{"nfs root, no slot named", "root=/dev/nfs", "", "", true},
		{"nothing", "quiet", "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(cmdline, []byte(tc.cmdline+"\n"), 0o644)
			s, src, err := cfg.Active()
			if tc.err {
				if !errors.Is(err, ErrUnknownSlot) {
					t.Fatalf("Active = %s from %s, %v; want ErrUnknownSlot", s.Name, src, err)
				}
				return
			}
			if err != nil || s.Name != tc.want || src != tc.source {
				t.Fatalf("Active = %s from %s, %v; want %s from %s", s.Name, src, err, tc.want, tc.source)
			}
		})
	}
	// A missing command line is no evidence either.
	os.Remove(cmdline)
	if s, src, err := cfg.Active(); !errors.Is(err, ErrUnknownSlot) {
		t.Errorf("no /proc/cmdline: Active = %s from %s, %v; want ErrUnknownSlot", s.Name, src, err)
	}
	if o := cfg.Other(Slot{Name: "A"}); o.Device != b || o.Part != "3" {
		t.Errorf("Other(A) = %+v", o)
	}
	if err := (Config{A: Slot{Device: "/x"}, B: Slot{Device: "/y"}}).Validate(); err == nil {
		t.Error("Validate accepted slots without partition numbers")
	}
}
