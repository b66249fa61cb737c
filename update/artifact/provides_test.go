package artifact

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"rootfs-image.*", "rootfs-image.version", true},
		{"rootfs-image.*", "rootfs-image.checksum", true},
		{"rootfs-image.*", "rootfs-image", false},
		{"rootfs-image.*", "data-partition.checksum", false},
		{"rootfs-image.*.version", "rootfs-image.ecg.version", true},
		{"rootfs-image.*.version", "rootfs-image.ecg.checksum", false},
		{"*", "anything", true},
		{"*", "", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "acb", false},
		{"a*a", "a", false},
		{"artifact_group", "artifact_group", true},
		{"artifact_group", "artifact_groups", false},
		{"x?", "xy", false}, // only '*' is special
		{"x[a]", "xa", false},
	} {
		if got := globMatch(tc.pat, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}

func TestNewProvides(t *testing.T) {
	stored := map[string]string{
		"artifact_name":         "rel-0",
		"artifact_group":        "ward-3",
		"rootfs-image.version":  "rel-0",
		"rootfs-image.checksum": "aa",
		"rootfs_image_checksum": "aa",
		"ecg-fw.version":        "1.0",
		"ecg-fw.build":          "7",
		"other":                 "keep",
	}
	for _, tc := range []struct {
		name string
		h    Header
		want map[string]string
	}{
		{"rootfs with default clears", Header{Name: "rel-1", Provides: map[string]string{"artifact_name": "rel-1"},
			Payloads: []Payload{{Type: "rootfs-image",
				Provides:       map[string]string{"rootfs-image.version": "rel-1", "rootfs-image.checksum": "bb"},
				ClearsProvides: []string{"artifact_group", "rootfs_image_checksum", "rootfs-image.*"}}}},
			map[string]string{"artifact_name": "rel-1", "rootfs-image.version": "rel-1", "rootfs-image.checksum": "bb",
				"ecg-fw.version": "1.0", "ecg-fw.build": "7", "other": "keep"}},
		{"module clears its keys and sets group", Header{Name: "mod-1", Provides: map[string]string{"artifact_name": "mod-1", "artifact_group": "ward-4"},
			Payloads: []Payload{{Type: "ecg-firmware",
				Provides:       map[string]string{"ecg-fw.version": "2.0"},
				ClearsProvides: []string{"ecg-fw.*"}}}},
			map[string]string{"artifact_name": "mod-1", "artifact_group": "ward-4", "rootfs-image.version": "rel-0",
				"rootfs-image.checksum": "aa", "rootfs_image_checksum": "aa", "ecg-fw.version": "2.0", "other": "keep"}},
		{"legacy rootfs without clears field clears all", Header{Name: "old",
			Payloads: []Payload{{Type: "rootfs-image", Provides: map[string]string{"rootfs-image.version": "old"}}}},
			map[string]string{"artifact_name": "old", "rootfs-image.version": "old"}},
		{"legacy module without clears field keeps all", Header{Name: "m",
			Payloads: []Payload{{Type: "x", Provides: map[string]string{"x.version": "1"}}}},
			func() map[string]string {
				m := map[string]string{"x.version": "1"}
				for k, v := range stored {
					m[k] = v
				}
				m["artifact_name"] = "m"
				return m
			}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewProvides(stored, &tc.h)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if stored["artifact_name"] != "rel-0" || len(stored) != 8 {
				t.Error("stored provides modified")
			}
		})
	}
	_, err := NewProvides(stored, &Header{Name: "x", Payloads: []Payload{{ClearsProvides: []string{""}}}})
	if !errors.Is(err, ErrFormat) {
		t.Errorf("empty pattern: %v", err)
	}
}

// TestNewProvidesFromRealHeader feeds a header written by mender-artifact.
func TestNewProvidesFromRealHeader(t *testing.T) {
	f := getFixture(t)
	h, _, err := readAll(f.read(t, "module-gzip-ec"), Options{Keys: f.ecKeys, SkipCompatibility: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := NewProvides(map[string]string{"artifact_name": "rel-0", "ecg-fw.version": "1.0", "ecg-fw.x": "y",
		"rootfs-image.version": "rel-0"}, h)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"artifact_name": "mod-1", "ecg-fw.version": "2.0", "rootfs-image.version": "rel-0",
		"rootfs-image.ecg-firmware.version": "mod-1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
