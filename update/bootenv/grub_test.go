package bootenv

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func grubBlock(lines string) string {
	s := GrubHeader + lines
	return s + strings.Repeat("#", GrubBlockSize-len(s))
}

type grubCase struct {
	name string
	in   string
	want map[string]string
	err  error
}

func grubCases() []grubCase {
	return []grubCase{
		{name: "empty", in: grubBlock(""), want: map[string]string{}},
		{name: "vars", in: grubBlock("saved_entry=0\nmender_boot_part=3\n"), want: map[string]string{"saved_entry": "0", "mender_boot_part": "3"}},
		{name: "escapes", in: grubBlock("k=a\\\\b\\\nc\n"), want: map[string]string{"k": "a\\b\nc"}},
		{name: "comment line", in: grubBlock("# hi\nk=v\n"), want: map[string]string{"k": "v"}},
		{name: "no header", in: "k=v\n", err: ErrFormat},
		{name: "unterminated", in: GrubHeader + "k=v", err: ErrFormat},
	}
}

func TestParseGrub(t *testing.T) {
	for _, tc := range grubCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseGrub([]byte(tc.in))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestGrubReadWrite(t *testing.T) {
	p := filepath.Join(t.TempDir(), "grubenv")
	if err := os.WriteFile(p, []byte(grubBlock("saved_entry=0\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	g := &Grub{Path: p}
	if err := g.WriteEnv(map[string]string{"upgrade_available": "1", "mender_boot_part": "3", "saved_entry": ""}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := grubBlock("mender_boot_part=3\nupgrade_available=1\n"); string(b) != want {
		t.Errorf("file:\n%q\nwant\n%q", b, want)
	}
	got, err := g.ReadEnv("upgrade_available", "missing")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"upgrade_available": "1"}, got); d != "" {
		t.Error(d)
	}
	big := map[string]string{"k": strings.Repeat("x", GrubBlockSize)}
	if err := g.WriteEnv(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized write: err = %v, want ErrTooLarge", err)
	}
	if b2, _ := os.ReadFile(p); string(b2) != string(b) {
		t.Error("failed write changed the file")
	}
}
