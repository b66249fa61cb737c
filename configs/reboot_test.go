package configs

import (
	"path"
	"strconv"
	"strings"
	"testing"
)

// TestRootWithoutCapabilities: a unit that runs as root with an empty
// capability bounding set has no CAP_DAC_OVERRIDE, so it is held to the
// file modes like any user: every path its ExecStart lines name inside
// medagent's directories must be in one that root may write by its owner
// or group bits. (medagent-reboot.service once removed the engine's request
// from /run/medagent-reboot, 0750 medagent-acq: "Permission denied", start
// limit hit, the update never rebooted; found by make qemu-test.)
func TestRootWithoutCapabilities(t *testing.T) {
	dirs := tmpfiles(t)
	for _, f := range []string{"systemd/medagent-reboot.service", "systemd/medagent-datadir.service"} {
		u := parseUnit(t, f)
		if usr := u.get("Service", "User"); usr != "" && usr != "root" {
			continue
		}
		if caps := u.all("Service", "CapabilityBoundingSet"); len(caps) != 0 {
			t.Fatalf("%s: CapabilityBoundingSet=%v: this test assumes none", f, caps)
		}
		for _, arg := range u.all("Service", "ExecStart") {
			if !strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, "/bin/") || strings.HasPrefix(arg, "/usr/bin/") {
				continue
			}
			d, ok := dirs[path.Dir(arg)]
			if !ok {
				continue
			}
			mode, err := strconv.ParseUint(d[0], 8, 32)
			if err != nil {
				t.Fatalf("tmpfiles %s: mode %q", path.Dir(arg), d[0])
			}
			if !(d[1] == "root" && mode&0o300 == 0o300) && !(d[2] == "root" && mode&0o030 == 0o030) {
				t.Errorf("%s: %s: root without capabilities cannot change %s (%s %s:%s)", f, arg, path.Dir(arg), d[0], d[1], d[2])
			}
		}
	}
}

// TestRebootRequestTrigger: the reboot service cannot remove the request
// (above), so the path unit must start it on the request's creation or a
// new write, not while the file exists (PathExists would start it again each
// time it ends, until the start limit stops the path unit for good).
func TestRebootRequestTrigger(t *testing.T) {
	u := parseUnit(t, "systemd/medagent-reboot.path")
	if v := u.all("Path", "PathExists"); len(v) != 0 {
		t.Errorf("medagent-reboot.path: PathExists=%v: want PathChanged (nothing removes the request)", v)
	}
	if got := u.get("Path", "PathChanged"); got != "/run/medagent-reboot/request" {
		t.Errorf("medagent-reboot.path: PathChanged=%q, want /run/medagent-reboot/request", got)
	}
	if got := u.get("Path", "Unit"); got != "medagent-reboot.service" {
		t.Errorf("medagent-reboot.path: Unit=%q", got)
	}
}
