package yoctolayer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The checks must catch broken files, or the layer tests prove nothing.
func TestCheckersRefuse(t *testing.T) {
	bad := []struct{ name, text, want string }{
		{"unquoted", "FOO = bar\n", "not one quoted string"},
		{"open quote", "FOO = \"bar\n", "not one quoted string"},
		{"garbage", "this is not bitbake\n", "not an assignment"},
		{"open function", "do_install() {\n  true\n", "not closed"},
		{"dangling continuation", "FOO = \"a \\\n", "continuation"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "x.bb")
			os.WriteFile(p, []byte(tc.text), 0o644)
			_, errs := parseBitBake(p)
			if len(errs) == 0 || !strings.Contains(errs[0].Error(), tc.want) {
				t.Fatalf("errors %v, want one containing %q", errs, tc.want)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		d := t.TempDir()
		p := filepath.Join(d, "x_1.0.bb")
		os.WriteFile(p, []byte("SRC_URI = \"file://there file://gone.service\"\n"), 0o644)
		os.MkdirAll(filepath.Join(d, "files"), 0o755)
		os.WriteFile(filepath.Join(d, "files", "there"), nil, 0o644)
		r, errs := parseBitBake(p)
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		miss := r.missingFiles()
		if len(miss) != 1 || !strings.Contains(miss[0].Error(), "gone.service") {
			t.Fatalf("missing %v, want only gone.service", miss)
		}
	})
	t.Run("unit", func(t *testing.T) {
		for _, text := range []string{"Type=notify\n", "[Service\nType=notify\n", "[Service]\nno equals sign\n"} {
			p := filepath.Join(t.TempDir(), "x.service")
			os.WriteFile(p, []byte(text), 0o644)
			if _, err := parseUnit(p); err == nil {
				t.Errorf("parseUnit accepted %q", text)
			}
		}
	})
}
