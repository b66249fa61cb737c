package mender

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
