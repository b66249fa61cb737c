package floor

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"medagent/internal/authfile"
	"medagent/trust/internal/swtpmtest"
)

func TestParseAndCompare(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"3.2.0", "3.2.0"}, {"v1.0", "1.0"}, {"release-3.2.0", "3.2.0"}, {"rel-1.0.0-rc1+build.7", "1.0.0-rc1"},
		{"medagent 2026.11.3", "2026.11.3"}, {"release-2", "2"},
	} {
		v, err := Parse(tc.in)
		if err != nil || v.String() != tc.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", tc.in, v, err, tc.want)
		}
	}
	for _, bad := range []string{"", "bench", "release-", "x.y.z"} {
		if _, err := Parse(bad); !errors.Is(err, ErrNoVersion) {
			t.Errorf("Parse(%q): %v, want ErrNoVersion", bad, err)
		}
	}
	order := []string{"0.9", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2", "3.2.0", "10.0"}
	for i := range order {
		for j := range order {
			a, _ := Parse(order[i])
			b, _ := Parse(order[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := a.Compare(b); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
	if a, _ := Parse("1.0"); a.Compare(mustParse(t, "1.0.0")) != 0 {
		t.Error("1.0 != 1.0.0")
	}
	if v, err := Of("release-1.0.0", map[string]string{"rootfs-image.version": "3.2.0"}); err != nil || v.String() != "3.2.0" {
		t.Errorf("Of prefers rootfs-image.version: %v %v", v, err)
	}
	if v, err := Of("release-1.0.0", map[string]string{"rootfs-image.version": "latest"}); err != nil || v.String() != "1.0.0" {
		t.Errorf("Of falls back to the name: %v %v", v, err)
	}
	if _, err := Of("bench", nil); !errors.Is(err, ErrNoVersion) {
		t.Errorf("Of without version: %v", err)
	}
}

func mustParse(t *testing.T, s string) Version {
	v, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// exercise checks a store: no floor at first, raised, never lowered,
// kept by a new store on the same place.
func exercise(t *testing.T, open func() Store) {
	s := open()
	if _, ok, err := s.Floor(); ok || err != nil {
		t.Fatalf("fresh store: ok %v, %v", ok, err)
	}
	for _, step := range []struct{ raise, want string }{{"3.2.0", "3.2.0"}, {"1.0.0", "3.2.0"}, {"3.2.0-rc1", "3.2.0"}, {"3.10", "3.10"}} {
		if err := s.Raise(mustParse(t, step.raise)); err != nil {
			t.Fatal(err)
		}
		if v, ok, err := open().Floor(); !ok || err != nil || v.String() != step.want {
			t.Fatalf("after raise %s: %v %v %v, want %s", step.raise, v, ok, err, step.want)
		}
	}
}

func TestFileStore(t *testing.T) {
	dir := t.TempDir()
	key := bytes.Repeat([]byte{3}, 32)
	p := filepath.Join(dir, "floor.state")
	open := func() Store {
		s, err := Open(Options{TPM: "off", File: p, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exercise(t, open)
	// An edited floor fails its check: an error, never "no floor".
	b, _ := os.ReadFile(p)
	os.WriteFile(p, bytes.Replace(b, []byte("3.10"), []byte("0.01"), 1), 0o600)
	if _, _, err := open().Floor(); !errors.Is(err, authfile.ErrAuth) {
		t.Fatalf("edited floor: %v", err)
	}
	os.Remove(p)
	os.WriteFile(p, []byte(`{"floor":"0.1"}`), 0o600)
	if _, _, err := open().Floor(); err == nil {
		t.Fatal("forged floor accepted")
	}
}

func TestNVStore(t *testing.T) {
	sim := swtpmtest.Start(t, t.TempDir())
	open := func() Store {
		s, err := Open(Options{TPM: sim.Path})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exercise(t, open)
	// The floor survives a TPM restart (power cycle).
	sim.Stop()
	sim2 := swtpmtest.Start(t, sim.StateDir)
	s, _ := Open(Options{TPM: sim2.Path})
	if v, ok, err := s.Floor(); !ok || err != nil || v.String() != "3.10" {
		t.Fatalf("after TPM restart: %v %v %v", v, ok, err)
	}
}

// FuzzParse: any text parses to a version whose canonical text parses to
// itself, or to ErrNoVersion; Compare is antisymmetric.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"3.2.0", "release-3.2.0", "rel-1.0.0-rc1+build.7", "bench", "v1", "1.0.0-alpha.beta", "x.y.z", ""} {
		f.Add(s, "1.0")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, err := Parse(a)
		if err != nil {
			return
		}
		again, err := Parse(va.String())
		if err != nil || again.Compare(va) != 0 || again.String() != va.String() {
			t.Fatalf("%q -> %q -> %q, %v", a, va, again, err)
		}
		if vb, err := Parse(b); err == nil && va.Compare(vb) != -vb.Compare(va) {
			t.Fatalf("Compare(%q, %q) not antisymmetric", va, vb)
		}
	})
}
