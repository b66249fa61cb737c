package authfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

type body struct {
	State string            `json:"state"`
	N     int               `json:"n,omitempty"`
	M     map[string]string `json:"m,omitempty"`
}

var key = bytes.Repeat([]byte{7}, 32)

func TestRoundTripAndTamper(t *testing.T) {
	b, err := Marshal(key, "test", 1, body{State: "arm", N: 3, M: map[string]string{"b": "2", "a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	var got body
	if err := Unmarshal(key, "test", 1, b, &got); err != nil || got.State != "arm" || got.M["a"] != "1" {
		t.Fatalf("%+v %v", got, err)
	}
	// Reformatting is harmless; every value counts.
	if err := Unmarshal(key, "test", 1, bytes.ReplaceAll(b, []byte("\n  "), []byte(" ")), &got); err != nil {
		t.Errorf("reformatted: %v", err)
	}
	for name, bad := range map[string][]byte{
		"edited value":  bytes.Replace(b, []byte(`"arm"`), []byte(`"idle"`), 1),
		"added field":   bytes.Replace(b, []byte(`"n": 3`), []byte(`"n": 3, "x": 1`), 1),
		"other version": bytes.Replace(b, []byte(`"version": 1`), []byte(`"version": 2`), 1),
		"plain JSON":    []byte(`{"state":"arm"}`),
		"empty":         nil,
	} {
		if err := Unmarshal(key, "test", 1, bad, &got); !errors.Is(err, ErrAuth) {
			t.Errorf("%s: %v, want ErrAuth", name, err)
		}
	}
	if err := Unmarshal(bytes.Repeat([]byte{8}, 32), "test", 1, b, &got); !errors.Is(err, ErrAuth) {
		t.Errorf("other key: %v", err)
	}
	if err := Unmarshal(key, "other", 1, b, &got); !errors.Is(err, ErrAuth) {
		t.Errorf("other format: %v", err)
	}
	if _, err := Marshal(key[:16], "test", 1, body{}); err == nil {
		t.Error("short key accepted")
	}
	if bytes.Equal(DeriveKey(key, "a"), DeriveKey(key, "b")) {
		t.Error("derived keys equal")
	}
}

func TestReadChecksOwnership(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state")
	if err := Write(p, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
	if b, err := Read(p, 10); err != nil || string(b) != "x" {
		t.Fatalf("%q %v", b, err)
	}
	if _, err := Read(p, 0); !errors.Is(err, ErrAuth) {
		t.Errorf("over limit: %v", err)
	}
	os.Chmod(p, 0o620)
	if _, err := Read(p, 10); !errors.Is(err, ErrOwner) {
		t.Errorf("group-writable file: %v", err)
	}
	os.Chmod(p, 0o600)
	link := filepath.Join(dir, "link")
	os.Symlink(p, link)
	if _, err := Read(link, 10); !errors.Is(err, ErrOwner) {
		t.Errorf("symlink: %v", err)
	}
	os.Chmod(dir, 0o770)
	if _, err := Read(p, 10); !errors.Is(err, ErrOwner) {
		t.Errorf("group-writable directory: %v", err)
	}
	if err := Write(p, []byte("y")); !errors.Is(err, ErrOwner) {
		t.Errorf("write into group-writable directory: %v", err)
	}
	os.Chmod(dir, 0o700)
	if _, err := Read(filepath.Join(dir, "missing"), 10); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if err := Quarantine(p); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p + ".rejected"); err != nil {
		t.Error(err)
	}
}

func FuzzUnmarshal(f *testing.F) {
	good, _ := Marshal(key, "test", 1, body{State: "arm", N: 1})
	f.Add(good)
	f.Add([]byte(`{"format":"test","version":1,"mac":"00","body":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var v body
		if err := Unmarshal(key, "test", 1, b, &v); err == nil {
			// Only what the key wrote verifies: re-marshal must verify too.
			again, err := Marshal(key, "test", 1, v)
			if err != nil {
				t.Fatal(err)
			}
			var w body
			if err := Unmarshal(key, "test", 1, again, &w); err != nil {
				t.Fatal(err)
			}
		}
	})
}
