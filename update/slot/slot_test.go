package slot

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

type fakeEnv map[string]string

func (f fakeEnv) ReadEnv(names ...string) (map[string]string, error) {
	out := map[string]string{}
	for _, n := range names {
		if v, ok := f[n]; ok {
			out[n] = v
		}
	}
	return out, nil
}
func (f fakeEnv) WriteEnv(map[string]string) error { return errors.New("read only") }

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
		env           fakeEnv
		want, source  string
		err           bool
	}{
		{"cmdline A", "console=ttyS0 root=" + a + " rw", nil, "A", "cmdline", false},
		{"cmdline B via symlink", "root=" + link, nil, "B", "cmdline", false},
		{"last root wins", "root=" + a + " root=" + b, nil, "B", "cmdline", false},
		{"fallback env", "root=/dev/nfs", fakeEnv{"mender_boot_part": "3"}, "B", "bootenv", false},
		{"env unknown part", "quiet", fakeEnv{"mender_boot_part": "7"}, "", "", true},
		{"nothing", "quiet", nil, "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(cmdline, []byte(tc.cmdline+"\n"), 0o644)
			var env fakeEnv = tc.env
			var s Slot
			var src string
			var err error
			if env == nil {
				s, src, err = cfg.Active(nil)
			} else {
				s, src, err = cfg.Active(env)
			}
			if tc.err {
				if !errors.Is(err, ErrUnknownSlot) {
					t.Fatalf("err = %v, want ErrUnknownSlot", err)
				}
				return
			}
			if err != nil || s.Name != tc.want || src != tc.source {
				t.Fatalf("Active = %s from %s, %v; want %s from %s", s.Name, src, err, tc.want, tc.source)
			}
		})
	}
	if o := cfg.Other(Slot{Name: "A"}); o.Device != b || o.Part != "3" {
		t.Errorf("Other(A) = %+v", o)
	}
	if err := (Config{A: Slot{Device: "/x"}, B: Slot{Device: "/y"}}).Validate(); err == nil {
		t.Error("Validate accepted slots without partition numbers")
	}
}
