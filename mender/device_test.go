package mender

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"medagent/handoff"
)

func TestRootfsDevice(t *testing.T) {
	dir := t.TempDir()
	info := filepath.Join(dir, "artifact_info")
	d := &RootfsDevice{DeviceType: "medagent-qemu", ArtifactInfo: info, Version: "v1.2", Sensors: []string{"ecg:ads1292"}}
	if _, err := d.Provides(); err == nil || !strings.Contains(err.Error(), "mender.artifact_info") {
		t.Fatalf("missing file: %v", err)
	}
	os.WriteFile(info, []byte("# comment=x\nfoo = bar\n"), 0o644)
	if _, err := d.Provides(); err == nil || !strings.Contains(err.Error(), "no artifact_name") {
		t.Fatalf("no artifact_name: %v", err)
	}
	os.WriteFile(info, []byte("# comment=x\n artifact_name = release-7 \nrootfs-image.version=7\n"), 0o644)
	p, err := d.Provides()
	if err != nil || len(p) != 3 || p["artifact_name"] != "release-7" || p["device_type"] != "medagent-qemu" || p["rootfs-image.version"] != "7" {
		t.Fatalf("Provides: %v, %v", p, err)
	}
	attrs, err := d.Inventory()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, a := range attrs {
		got[a.Name] = a.Value
	}
	if got["device_type"] != "medagent-qemu" || got["artifact_name"] != "release-7" || got["medagent_version"] != "v1.2" {
		t.Fatalf("inventory %v", got)
	}
	if s, ok := got["sensors"].([]string); !ok || len(s) != 1 || s[0] != "ecg:ads1292" {
		t.Fatalf("sensors %v", got["sensors"])
	}
}

// publication is acquire's running software as the test sets it.
type publication struct {
	r   handoff.Running
	err error
}

func (p *publication) Running() (handoff.Running, error) { return p.r, p.err }

// TestRootfsDevicePublished: what acquire publishes (the committed
// artifact) wins over the root file system's artifact_info; while acquire
// has published nothing the artifact_info is used; a publication that
// cannot be read is an error, never a silent fall-back.
func TestRootfsDevicePublished(t *testing.T) {
	info := filepath.Join(t.TempDir(), "artifact_info")
	os.WriteFile(info, []byte("artifact_name=factory-1\n"), 0o644)
	pub := &publication{err: fmt.Errorf("handoff: running software: %w", fs.ErrNotExist)}
	d := &RootfsDevice{DeviceType: "bedside", Running: pub, ArtifactInfo: info}
	if p, err := d.Provides(); err != nil || p["artifact_name"] != "factory-1" || p["device_type"] != "bedside" {
		t.Fatalf("nothing published: %v, %v", p, err)
	}
	pub.r, pub.err = handoff.Running{Provides: map[string]string{"artifact_name": "release-2", "device_type": "other"}}, nil
	if p, err := d.Provides(); err != nil || p["artifact_name"] != "release-2" || p["device_type"] != "bedside" {
		t.Fatalf("published: %v, %v (device_type is the configuration's)", p, err)
	}
	pub.err = errors.New("handoff: running software: format 9")
	if _, err := d.Provides(); err == nil {
		t.Fatal("an unreadable publication fell back to artifact_info")
	}
}
