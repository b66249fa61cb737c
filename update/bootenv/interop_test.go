package bootenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const envSize = 0x4000

func requireTools(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Fatalf("%s not found: install Debian packages libubootenv-tool u-boot-tools (scripts/setup.sh)", n)
		}
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// layout is one fw_env.config arrangement under test.
type layout struct {
	name  string
	lines func(dir string) []Location
}

var layouts = []layout{
	{"single", func(d string) []Location {
		return []Location{{Path: filepath.Join(d, "env.bin"), Size: envSize}}
	}},
	{"redundant two files", func(d string) []Location {
		return []Location{{Path: filepath.Join(d, "env1.bin"), Size: envSize}, {Path: filepath.Join(d, "env2.bin"), Size: envSize}}
	}},
	{"redundant one file with offsets", func(d string) []Location {
		return []Location{{Path: filepath.Join(d, "boot.img"), Offset: 0x10000, Size: envSize}, {Path: filepath.Join(d, "boot.img"), Offset: 0x20000, Size: envSize}}
	}},
}

// setup writes fw_env.config and creates the copies with mkenvimage.
func setup(t *testing.T, l layout, initial string) (cfgPath string, u *UBoot) {
	t.Helper()
	dir := t.TempDir()
	locs := l.lines(dir)
	var cfg strings.Builder
	cfg.WriteString("# device offset size\n\n")
	in := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(in, []byte(initial), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, loc := range locs {
		fmt.Fprintf(&cfg, "%s\t%#x %#x\n", loc.Path, loc.Offset, loc.Size)
		img := filepath.Join(dir, fmt.Sprintf("img%d", i))
		args := []string{"-s", fmt.Sprint(envSize), "-o", img, in}
		if len(locs) == 2 {
			args = append([]string{"-r"}, args...)
		}
		run(t, "mkenvimage", args...)
		b, err := os.ReadFile(img)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			b[4] = 0 // copy 0 is the current one
		}
		f, err := os.OpenFile(loc.Path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(b, loc.Offset); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	cfgPath = filepath.Join(dir, "fw_env.config")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ReadConfigFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	c.LockFile = filepath.Join(dir, "lock")
	u, err = NewUBoot(c)
	if err != nil {
		t.Fatal(err)
	}
	return cfgPath, u
}

func printenv(t *testing.T, cfg string) map[string]string {
	t.Helper()
	out := run(t, "fw_printenv", "-c", cfg)
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("fw_printenv line %q", line)
		}
		m[k] = v
	}
	return m
}

func TestInteropWithLibubootenv(t *testing.T) {
	requireTools(t, "fw_printenv", "fw_setenv", "mkenvimage")
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			cfg, u := setup(t, l, "bootcmd=run mender_setup; boot\nbootlimit=1\n")
			want := map[string]string{"bootcmd": "run mender_setup; boot", "bootlimit": "1"}

			// mkenvimage -> ours
			got, err := u.ReadEnv()
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("read mkenvimage env (-want +got):\n%s", d)
			}
			// Alternate writers several times so redundant flags advance
			// and both copies take turns.
			for i := 0; i < 4; i++ {
				// ours -> fw_printenv
				v := fmt.Sprintf("%d", i+2)
				if err := u.WriteEnv(map[string]string{"mender_boot_part": v, "upgrade_available": "1", "bootcount": "0", "bootlimit": ""}); err != nil {
					t.Fatal(err)
				}
				want["mender_boot_part"], want["upgrade_available"], want["bootcount"] = v, "1", "0"
				delete(want, "bootlimit")
				if d := cmp.Diff(want, printenv(t, cfg)); d != "" {
					t.Fatalf("round %d: fw_printenv after our write (-want +got):\n%s", i, d)
				}
				// fw_setenv -> ours (both argument form and -s script form)
				run(t, "fw_setenv", "-c", cfg, "bootcount", fmt.Sprint(i+1))
				script := filepath.Join(t.TempDir(), "s")
				os.WriteFile(script, []byte("upgrade_available=\nnote=a b=c\n"), 0o644)
				run(t, "fw_setenv", "-c", cfg, "-s", script)
				want["bootcount"] = fmt.Sprint(i + 1)
				want["note"] = "a b=c"
				delete(want, "upgrade_available")
				got, err := u.ReadEnv()
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Fatalf("round %d: our read after fw_setenv (-want +got):\n%s", i, d)
				}
			}
		})
	}
}

// TestFlagWrapInterop: incremental flags wrap 255 -> 0 the same way in
// libubootenv and here.
func TestFlagWrapInterop(t *testing.T) {
	requireTools(t, "fw_printenv", "fw_setenv", "mkenvimage")
	cfg, u := setup(t, layouts[1], "a=1\n")
	locs := u.Config().Copies
	for i, flag := range []byte{255, 254} {
		b, err := EncodeUBoot(map[string]string{"a": fmt.Sprint(i)}, envSize, true, flag)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(locs[i].Path, b, 0o644)
	}
	if got := printenv(t, cfg)["a"]; got != "0" {
		t.Fatalf("fw_printenv picked a=%s, want copy 0 (flag 255)", got)
	}
	run(t, "fw_setenv", "-c", cfg, "a", "new") // goes to copy 1 with flag 0
	got, err := u.ReadEnv("a")
	if err != nil {
		t.Fatal(err)
	}
	if got["a"] != "new" {
		t.Fatalf("after wrap we read a=%q, want new", got["a"])
	}
	b, _ := os.ReadFile(locs[1].Path)
	if b[4] != 0 {
		t.Fatalf("fw_setenv wrote flag %d, want 0", b[4])
	}
	if err := u.WriteEnv(map[string]string{"a": "ours"}); err != nil { // copy 0, flag 1
		t.Fatal(err)
	}
	if got := printenv(t, cfg)["a"]; got != "ours" {
		t.Fatalf("fw_printenv after our wrapped write: a=%s", got)
	}
}

// TestTornWrite: a redundant write interrupted before the new copy is
// complete leaves the old environment readable by both implementations.
func TestTornWrite(t *testing.T) {
	requireTools(t, "fw_printenv", "fw_setenv", "mkenvimage")
	cfg, u := setup(t, layouts[1], "mender_boot_part=2\n")
	next := u.Config().Copies[1]
	b, err := EncodeUBoot(map[string]string{"mender_boot_part": "3"}, envSize, true, 1)
	if err != nil {
		t.Fatal(err)
	}
	copy(b[100:], bytes.Repeat([]byte{0xAA}, 50)) // the rest never reached the flash
	os.WriteFile(next.Path, b, 0o644)
	if got := printenv(t, cfg)["mender_boot_part"]; got != "2" {
		t.Errorf("fw_printenv: mender_boot_part=%s, want old 2", got)
	}
	got, err := u.ReadEnv("mender_boot_part")
	if err != nil || got["mender_boot_part"] != "2" {
		t.Errorf("ReadEnv = %v, %v; want old 2", got, err)
	}
}

func TestErrors(t *testing.T) {
	requireTools(t, "mkenvimage")
	_, u := setup(t, layouts[1], "a=1\n")
	for _, loc := range u.Config().Copies {
		b, _ := os.ReadFile(loc.Path)
		b[10] ^= 0xFF
		os.WriteFile(loc.Path, b, 0o644)
	}
	if _, err := u.ReadEnv(); !errors.Is(err, ErrBadCRC) || !strings.Contains(err.Error(), "copy 1") {
		t.Errorf("both copies bad: err = %v, want ErrBadCRC naming both copies", err)
	}
	if err := u.WriteEnv(map[string]string{"a": "2"}); !errors.Is(err, ErrBadCRC) {
		t.Errorf("write over bad env: err = %v, want ErrBadCRC", err)
	}

	_, u = setup(t, layouts[0], "a=1\n")
	p := u.Config().Copies[0].Path
	os.Truncate(p, envSize-1)
	if _, err := u.ReadEnv(); err == nil || !strings.Contains(err.Error(), "wrong size") {
		t.Errorf("short file: err = %v, want wrong size", err)
	}
	os.Remove(p)
	if _, err := u.ReadEnv(); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), p) {
		t.Errorf("missing device: err = %v, want not exist naming %s", err, p)
	}
}

func TestBooleanFlags(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{
		Copies:   []Location{{Path: filepath.Join(dir, "a"), Size: 256}, {Path: filepath.Join(dir, "b"), Size: 256}},
		Flags:    FlagBoolean,
		LockFile: filepath.Join(dir, "lock"),
	}
	for _, l := range cfg.Copies {
		os.WriteFile(l.Path, make([]byte, 256), 0o644)
	}
	u, err := NewUBoot(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Format(map[string]string{"n": "0"}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if err := u.WriteEnv(map[string]string{"n": fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(cfg.Copies[0].Path)
		b, _ := os.ReadFile(cfg.Copies[1].Path)
		// write i goes to copy i%2 with flag 1; the other is marked 0
		active, obsolete := b, a
		if i%2 == 0 {
			active, obsolete = a, b
		}
		if active[4] != 1 || obsolete[4] != 0 {
			t.Fatalf("write %d: flags active=%d obsolete=%d, want 1 and 0", i, active[4], obsolete[4])
		}
		got, err := u.ReadEnv("n")
		if err != nil || got["n"] != fmt.Sprint(i) {
			t.Fatalf("write %d: read %v, %v", i, got, err)
		}
	}
}

type configCase struct {
	in   string
	want []Location
	err  bool
}

func configCases() []configCase {
	return []configCase{
		{in: "# c\n/dev/mmcblk0 0x400000 0x4000\n/dev/mmcblk0 0x800000 0x4000 0x200\n",
			want: []Location{{"/dev/mmcblk0", 0x400000, 0x4000, 0}, {"/dev/mmcblk0", 0x800000, 0x4000, 0x200}}},
		{in: "/f 4096 4000\n", want: []Location{{"/f", 4096, 0x4000, 0}}}, // sizes are hex even without 0x
		{in: "/f 010 20\n", want: []Location{{"/f", 8, 0x20, 0}}},         // C octal offset
		{in: "short line\n/f 0 100\n", want: []Location{{"/f", 0, 0x100, 0}}},
		{in: "# nothing\n", err: true},
		{in: "/f 0 0\n", err: true},
		{in: "/f x 100\n", err: true},
		{in: "/a 0 100\n/b 0 200\n", err: true},
		{in: "/a 0 100\n/a 80 100\n", err: true},
	}
}

func TestParseConfig(t *testing.T) {
	for _, tc := range configCases() {
		cfg, err := ParseConfig(strings.NewReader(tc.in))
		if tc.err {
			if err == nil {
				t.Errorf("%q: no error", tc.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if d := cmp.Diff(tc.want, cfg.Copies); d != "" {
			t.Errorf("%q (-want +got):\n%s", tc.in, d)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, tc := range configCases() {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		cfg, err := ParseConfig(strings.NewReader(in))
		if err != nil {
			return
		}
		if err := cfg.validate(); err != nil {
			t.Fatalf("ParseConfig returned an invalid config: %v", err)
		}
		if _, err := NewUBoot(cfg); err != nil {
			t.Fatalf("NewUBoot refused a parsed config: %v", err)
		}
	})
}

// TestMissingCopy: a copy whose file is gone (lost from the boot
// partition) is an invalid copy, as for U-Boot's boot script: the other
// one is read, and the next write recreates the file, which fw_printenv
// then reads. Both gone: an error, nothing created.
func TestMissingCopy(t *testing.T) {
	requireTools(t, "fw_printenv", "mkenvimage")
	cfg, u := setup(t, layouts[1], "mender_boot_part=2\nbootlimit=1\n")
	locs := u.Config().Copies
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Remove(locs[1].Path))
	got, err := u.ReadEnv("mender_boot_part")
	if err != nil || got["mender_boot_part"] != "2" {
		t.Fatalf("read with copy 2 gone: %v, %v", got, err)
	}
	must(u.WriteEnv(map[string]string{"mender_boot_part": "3"}))
	if fi, err := os.Stat(locs[1].Path); err != nil || fi.Size() != envSize {
		t.Fatalf("copy 2 not recreated at its size: %v, %v", fi, err)
	}
	if v := printenv(t, cfg); v["mender_boot_part"] != "3" || v["bootlimit"] != "1" {
		t.Fatalf("fw_printenv after the recreating write: %v", v)
	}
	// The current copy gone: the older one (the state before) serves.
	must(os.Remove(locs[1].Path))
	if got, err := u.ReadEnv("mender_boot_part"); err != nil || got["mender_boot_part"] != "2" {
		t.Fatalf("read with the current copy gone: %v, %v", got, err)
	}
	must(os.Remove(locs[0].Path))
	if _, err := u.ReadEnv(); err == nil {
		t.Fatal("read with both copies gone succeeded")
	}
	if err := u.WriteEnv(map[string]string{"a": "1"}); err == nil {
		t.Fatal("write with both copies gone succeeded")
	}
	for _, l := range locs {
		if _, err := os.Stat(l.Path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s created although no copy was readable", l.Path)
		}
	}
}
