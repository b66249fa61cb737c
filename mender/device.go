package mender

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// RootfsDevice is the Device of a running root file system: the type from
// the configuration, the running artifact from the rootfs's artifact_info
// (as meta-mender's images carry it; the uplink cannot read acquire's
// update journal), and the hardware from /proc and /sys.
type RootfsDevice struct {
	DeviceType   string   // device.type
	ArtifactInfo string   // the file with artifact_name=... (mender.artifact_info)
	Version      string   // the agent's version, an inventory attribute
	Sensors      []string // NAME:DRIVER of each configured sensor
}

// Provides reads ArtifactInfo (KEY=VALUE lines, # comments) and adds
// device_type; artifact_name must be there.
func (d *RootfsDevice) Provides() (map[string]string, error) {
	b, err := os.ReadFile(d.ArtifactInfo)
	if err != nil {
		return nil, fmt.Errorf("running artifact unknown: %w (mender.artifact_info)", err)
	}
	p := map[string]string{"device_type": d.DeviceType}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok && !strings.HasPrefix(k, "#") {
			p[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if p["artifact_name"] == "" {
		return nil, fmt.Errorf("%s has no artifact_name", d.ArtifactInfo)
	}
	return p, nil
}

// Inventory is device_type, artifact_name, medagent_version, the kernel
// release, the board (device tree model, else DMI product name) and the
// sensors.
func (d *RootfsDevice) Inventory() ([]Attribute, error) {
	p, err := d.Provides()
	if err != nil {
		return nil, err
	}
	attrs := []Attribute{
		{Name: "device_type", Value: p["device_type"]},
		{Name: "artifact_name", Value: p["artifact_name"]},
		{Name: "medagent_version", Value: d.Version},
	}
	for _, f := range []struct{ name, path string }{
		{"kernel", "/proc/sys/kernel/osrelease"},
		{"board", "/proc/device-tree/model"},
		{"board", "/sys/class/dmi/id/product_name"},
	} {
		if b, err := os.ReadFile(f.path); err == nil {
			attrs = append(attrs, Attribute{Name: f.name, Value: strings.TrimSpace(strings.TrimRight(string(b), "\x00"))})
			if f.name == "board" {
				break
			}
		}
	}
	if len(d.Sensors) > 0 {
		attrs = append(attrs, Attribute{Name: "sensors", Value: d.Sensors})
	}
	return attrs, nil
}
