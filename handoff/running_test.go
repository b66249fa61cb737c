package handoff

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var runningCases = []struct {
	name, in string
	ok       bool
}{
	{"journal", `{"format":1,"provides":{"artifact_name":"release-2","rootfs-image.version":"2"},"source":"update journal","updated":"2026-12-03T14:00:00Z"}`, true},
	{"artifact_info", `{"format":1,"provides":{"artifact_name":"release-1"},"source":"/etc/mender/artifact_info","updated":"2026-12-03T14:00:00Z"}`, true},
	{"no name", `{"format":1,"provides":{"rootfs-image.version":"2"},"source":"x","updated":"2026-12-03T14:00:00Z"}`, false},
	{"empty name", `{"format":1,"provides":{"artifact_name":""},"source":"x","updated":"2026-12-03T14:00:00Z"}`, false},
	{"other format", `{"format":2,"provides":{"artifact_name":"r"},"source":"x","updated":"2026-12-03T14:00:00Z"}`, false},
	{"unknown field", `{"format":1,"provides":{"artifact_name":"r"},"source":"x","updated":"2026-12-03T14:00:00Z","extra":1}`, false},
	{"bad key", `{"format":1,"provides":{"artifact_name":"r","a b":"c"},"source":"x","updated":"2026-12-03T14:00:00Z"}`, false},
	{"control character", `{"format":1,"provides":{"artifact_name":"r\u001b[2J"},"source":"x","updated":"2026-12-03T14:00:00Z"}`, false},
	{"two values", `{"format":1,"provides":{"artifact_name":"r"},"source":"x","updated":"2026-12-03T14:00:00Z"}{}`, false},
}

func TestDecodeRunning(t *testing.T) {
	for _, c := range runningCases {
		r, err := DecodeRunning([]byte(c.in))
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.name, err, c.ok)
		}
		if err == nil && r.Provides["artifact_name"] == "" {
			t.Errorf("%s: no artifact name in %+v", c.name, r)
		}
	}
}

// TestRunning: acquire writes the running software into its state
// directory, the producer (the uplink) reads it back; nothing published
// reads as os.ErrNotExist; the file is not taken for an item's state.
func TestRunning(t *testing.T) {
	r := newRig(t, nil)
	if _, err := r.p.Running(); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("nothing published: %v", err)
	}
	want := Running{Provides: map[string]string{"artifact_name": "release-2", "rootfs-image.version": "2"}, Source: "update journal", Updated: r.now}
	if err := r.c.WriteRunning(want); err != nil {
		t.Fatal(err)
	}
	got, err := r.p.Running()
	if err != nil || !maps.Equal(got.Provides, want.Provides) || got.Source != want.Source || !got.Updated.Equal(want.Updated) || got.Format != Format {
		t.Fatalf("read %+v, %v; want %+v", got, err, want)
	}
	if err := r.c.WriteRunning(Running{Provides: map[string]string{"rootfs-image.version": "2"}}); err == nil {
		t.Error("running software without an artifact name written")
	}
	if st, _ := r.p.States(); len(st) != 0 {
		t.Errorf("the running software's file read as item states: %+v", st)
	}
	if _, err := OpenConsumer(Options{Dir: r.dir, StateDir: r.state}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.p.Running(); err != nil {
		t.Errorf("a restarted consumer removed the running software's file: %v", err)
	}
	os.WriteFile(filepath.Join(r.state, runningName), bytes.Repeat([]byte("x"), maxRunning+1), 0o640)
	if _, err := r.p.Running(); err == nil {
		t.Error("an oversized file was read")
	}
}

var artifactInfoCases = []struct {
	in   string
	want map[string]string // nil: refused
}{
	{"artifact_name=release-1\n", map[string]string{"artifact_name": "release-1"}},
	{"# meta-mender\n artifact_name = release-7 \n\nrootfs-image.version=7\n", map[string]string{"artifact_name": "release-7", "rootfs-image.version": "7"}},
	{"rootfs-image.version=7\n", nil},
	{"artifact_name\n", nil},
	{"artifact_name=\n", nil},
	{"artifact_name=r\nbad key=v\n", nil},
	{"artifact_name=r\x07\n", nil},
	{"", nil},
}

func TestParseArtifactInfo(t *testing.T) {
	for _, c := range artifactInfoCases {
		got, err := ParseArtifactInfo([]byte(c.in))
		if c.want == nil {
			if err == nil {
				t.Errorf("%q accepted: %v", c.in, got)
			} else if !strings.HasPrefix(err.Error(), "artifact_info") {
				t.Errorf("%q: error %q does not name the file", c.in, err)
			}
			continue
		}
		if err != nil || !maps.Equal(got, c.want) {
			t.Errorf("%q = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// FuzzDecodeRunning: acquire's running-software file never crashes the
// uplink, and what decodes has a printable artifact name.
func FuzzDecodeRunning(f *testing.F) {
	for _, c := range runningCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRunning(b)
		if err == nil && (r.Format != Format || r.Provides["artifact_name"] == "" || len(r.Provides) > maxProvides) {
			t.Fatalf("accepted %+v", r)
		}
	})
}

// FuzzParseArtifactInfo: the root file system's artifact_info never
// crashes the reader, and what parses keeps the provide rules.
func FuzzParseArtifactInfo(f *testing.F) {
	for _, c := range artifactInfoCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseArtifactInfo(b)
		if err != nil {
			return
		}
		if p["artifact_name"] == "" {
			t.Fatalf("accepted without artifact_name: %v", p)
		}
		for k, v := range p {
			if !ValidProvide(k, v) {
				t.Fatalf("accepted %q=%q", k, v)
			}
		}
	})
}
