package mender

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"strings"

	"medagent/handoff"
)

// RootfsDevice is the Device of a running root file system: the type from
// the configuration, the running software from what acquire publishes in
// the hand-off (the provides of the artifact the update engine last
// committed, else the root file system's artifact_info: the uplink cannot
// read acquire's update journal), falling back to the rootfs's own
// artifact_info (as meta-mender's images carry it) while acquire has not
// published, and the hardware from /proc and /sys.
type RootfsDevice struct {
	DeviceType string // device.type
	// Running is acquire's publication (handoff.Producer); nil: the
	// artifact_info alone.
	Running      RunningReader
	ArtifactInfo string   // the file with artifact_name=... (mender.artifact_info)
	Version      string   // the agent's version, an inventory attribute
	Sensors      []string // NAME:DRIVER of each configured sensor
}

// RunningReader is the hand-off as the client reads the running software.
type RunningReader interface {
	Running() (handoff.Running, error)
}

// Provides is the running software's provides and device_type;
// artifact_name is always there.
func (d *RootfsDevice) Provides() (map[string]string, error) {
	var p map[string]string
	err := fs.ErrNotExist
	if d.Running != nil {
		var r handoff.Running
		if r, err = d.Running.Running(); err == nil {
			p = maps.Clone(r.Provides)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("running artifact: %w", err)
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		// Acquire has not published it (yet): the root file system's own.
		b, err := os.ReadFile(d.ArtifactInfo)
		if err != nil {
			return nil, fmt.Errorf("running artifact unknown: not published by acquire in the hand-off, and %w (mender.artifact_info: the image must install it)", err)
		}
		if p, err = handoff.ParseArtifactInfo(b); err != nil {
			return nil, fmt.Errorf("running artifact: %s: %w", d.ArtifactInfo, err)
		}
	}
	p["device_type"] = d.DeviceType
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
