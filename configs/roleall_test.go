package configs

import (
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"medagent/config"
)

// writes lists the directories a role writes under the product
// configuration (configs/medagent.yaml with a device layer): its state
// files' directories, the spool, the hand-off and the sockets.
func writes(t *testing.T, role string) []string {
	t.Helper()
	b, err := os.ReadFile("medagent.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.ParseLayers(config.Layer{Name: "medagent.yaml", Data: b}, config.Layer{Name: "device.yaml", Data: []byte("device: {id: MA-0042}\n")})
	if err != nil {
		t.Fatal(err)
	}
	acquire := []string{cfg.Spool.Dir, path.Dir(cfg.Spool.KeyFile), path.Dir(cfg.Update.Journal), path.Dir(cfg.Commands.Keyring),
		path.Dir(cfg.Commands.NonceFile), cfg.Handoff.StateDir, "/run/medagent", "/run/medagent-reboot"}
	uplink := []string{cfg.Spool.ReaderDir, cfg.Handoff.Dir, cfg.Mender.StateDir}
	switch role {
	case "acquire":
		return acquire
	case "uplink":
		return uplink
	}
	return append(acquire, uplink...)
}

// TestUnitsCanWriteTheirDirectories: every directory a unit's role writes
// is, after tmpfiles (medagent.conf) and the unit's own StateDirectory=,
// owned by the unit's user and inside its ReadWritePaths. Role all
// (medagent.service) was shipped running as a user that owned none of
// them; it could not start.
func TestUnitsCanWriteTheirDirectories(t *testing.T) {
	d := tmpfiles(t)
	for _, c := range []struct{ unit, role string }{
		{"systemd/medagent-acquire.service", "acquire"},
		{"systemd/medagent-uplink.service", "uplink"},
		{"systemd/medagent.service", "all"},
	} {
		u := parseUnit(t, c.unit)
		user := u.get("Service", "User")
		rw := u.all("Service", "ReadWritePaths")
		var state []string
		for _, s := range u.all("Service", "StateDirectory") {
			state = append(state, "/var/lib/"+s)
		}
		for _, p := range writes(t, c.role) {
			// The nearest directory that tmpfiles or StateDirectory= makes.
			owner, made := "", ""
			for dir, m := range d {
				if under(p, dir) && len(dir) > len(made) {
					owner, made = m[1], dir
				}
			}
			for _, s := range state {
				if under(p, s) && len(s) >= len(made) {
					owner, made = user, s
				}
			}
			if made == "" {
				t.Errorf("%s: %s is made by neither tmpfiles nor StateDirectory=", c.unit, p)
				continue
			}
			if owner != user {
				t.Errorf("%s (user %s): cannot write %s: %s belongs to %s", c.unit, user, p, made, owner)
			}
			if !slices.ContainsFunc(rw, func(w string) bool { return under(p, strings.TrimPrefix(w, "-")) }) && !slices.Contains(state, made) {
				t.Errorf("%s: %s is not in its ReadWritePaths %v (ProtectSystem=strict)", c.unit, p, rw)
			}
		}
	}
}

// TestRoleAllUnit: the one-process unit runs as the acquire role's user
// (it holds what acquire trusts), never as root or a technician, and
// cannot run beside the split units.
func TestRoleAllUnit(t *testing.T) {
	u := parseUnit(t, "systemd/medagent.service")
	if usr, grp := u.get("Service", "User"), u.get("Service", "Group"); usr != "medagent-acq" || grp != "medagent-acq" {
		t.Errorf("role all runs as %s:%s, want medagent-acq:medagent-acq", usr, grp)
	}
	if g := u.all("Service", "SupplementaryGroups"); slices.Contains(g, "medtech") || !slices.Contains(g, "medagent") {
		t.Errorf("role all groups %v: want medagent (the spool's group), never medtech", g)
	}
	if !strings.Contains(u.get("Service", "ExecStart"), "--role all") {
		t.Errorf("ExecStart %q: want --role all", u.get("Service", "ExecStart"))
	}
	if c := u.all("Unit", "Conflicts"); !slices.Contains(c, "medagent-acquire.service") || !slices.Contains(c, "medagent-uplink.service") {
		t.Errorf("Conflicts %v: want both split units", c)
	}
	// Only the uplink role's two directories change hands; acquire's are
	// its own already.
	if s := u.all("Service", "StateDirectory"); !slices.Equal(s, []string{"medagent/uplink", "medagent/handoff"}) {
		t.Errorf("StateDirectory %v, want medagent/uplink medagent/handoff", s)
	}
	if m := u.get("Service", "StateDirectoryMode"); m != "0700" {
		t.Errorf("StateDirectoryMode %q, want 0700", m)
	}
}

// under reports whether p is dir or inside it.
func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}
