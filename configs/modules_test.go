package configs

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// loadableGroups maps the device groups (/proc/devices) that the units
// allow by name to the module that registers each, where that module is
// not built into the kernels medagent runs on. A group the unit allows
// must be registered before the unit starts: systemd resolves
// DeviceAllow=char-GROUP to a major only then (systemd.resource-control(5)).
var loadableGroups = map[string]string{
	"ttyUSB": "usbserial",
	"ttyACM": "cdc_acm",
	"i2c":    "i2c-dev",
}

// builtinGroups are the groups the units allow whose drivers are in the
// kernel itself or bound at coldplug, which the units wait for
// (systemd-udev-settle); hvc is the bench's virtio console, whose module
// the bench image loads itself (qemu/bench/rootfs/etc/modules-load.d).
var builtinGroups = []string{"spi", "gpiochip", "ttyS", "ttyAMA", "hvc"}

// modulesLoad returns the modules medagent.modules-load names, with '-'
// and '_' the same as for modprobe.
func modulesLoad(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("systemd/medagent.modules-load")
	if err != nil {
		t.Fatal(err)
	}
	mods := map[string]bool{}
	for n, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		if strings.ContainsAny(l, " \t") {
			t.Fatalf("medagent.modules-load:%d: %q: one module name a line", n+1, l)
		}
		mods[strings.ReplaceAll(l, "-", "_")] = true
	}
	return mods
}

// TestDeviceGroupsLoadedAtBoot: every device group the units allow by
// name is registered before they start, by a module that
// medagent.modules-load loads at boot or by the kernel itself, so that a
// USB oximeter plugged in later can be opened without restarting the unit.
func TestDeviceGroupsLoadedAtBoot(t *testing.T) {
	mods := modulesLoad(t)
	for _, f := range []string{"systemd/medagent-acquire.service", "systemd/medagent.service"} {
		u := parseUnit(t, f)
		if u.get("Unit", "DefaultDependencies") == "no" {
			t.Errorf("%s: DefaultDependencies=no: it could start before systemd-modules-load.service (sysinit.target)", f)
		}
		seen := 0
		for _, v := range u["Service"]["DeviceAllow"] {
			spec, _, _ := strings.Cut(v, " ")
			group, ok := strings.CutPrefix(spec, "char-")
			if !ok {
				continue
			}
			seen++
			if mod, ok := loadableGroups[group]; ok {
				if !mods[strings.ReplaceAll(mod, "-", "_")] {
					t.Errorf("%s: DeviceAllow=%s: its driver %s is not in medagent.modules-load, so a device plugged in after the unit started gets EPERM", f, spec, mod)
				}
				continue
			}
			if !slices.Contains(builtinGroups, group) {
				t.Errorf("%s: DeviceAllow=%s: which module registers group %s? add it to loadableGroups (and medagent.modules-load) or to builtinGroups", f, spec, group)
			}
		}
		if seen == 0 {
			t.Errorf("%s: no DeviceAllow=char-...: the test checks nothing", f)
		}
	}
	for m := range mods {
		found := false
		for _, want := range loadableGroups {
			found = found || strings.ReplaceAll(want, "-", "_") == m
		}
		if !found {
			t.Errorf("medagent.modules-load loads %s, which no allowed device group needs", m)
		}
	}
}
