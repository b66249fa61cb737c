package configs

import (
	"bufio"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"medagent/config"
	"medagent/sensors"
)

// unit is a parsed unit file: section -> key -> values in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u, section := unit{}, ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not Key=Value in a section: %q", path, n, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

func (u unit) get(s, k string) string {
	v := u[s][k]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// all returns every value of a key, each split into words.
func (u unit) all(s, k string) []string {
	var out []string
	for _, v := range u[s][k] {
		out = append(out, strings.Fields(v)...)
	}
	return out
}

func TestRolesAreDifferentUsers(t *testing.T) {
	acq := parseUnit(t, "systemd/medagent-acquire.service")
	up := parseUnit(t, "systemd/medagent-uplink.service")
	if a, u := acq.get("Service", "User"), up.get("Service", "User"); a != "medagent-acq" || u != "medagent-up" {
		t.Fatalf("users: acquire %q, uplink %q; want medagent-acq and medagent-up", a, u)
	}
	for name, u := range map[string]unit{"acquire": acq, "uplink": up} {
		if g := u.all("Service", "SupplementaryGroups"); slices.Contains(g, "medtech") {
			t.Errorf("%s: in group medtech (technicians): %v", name, g)
		}
		for k, want := range map[string]string{"NoNewPrivileges": "yes", "ProtectSystem": "strict", "CapabilityBoundingSet": "", "DevicePolicy": "closed", "Type": "notify"} {
			if got := u.get("Service", k); got != want {
				t.Errorf("%s: %s=%q, want %q", name, k, got, want)
			}
		}
		for _, k := range []string{"StateDirectory", "RuntimeDirectory"} {
			if v := u.get("Service", k); v != "" {
				t.Errorf("%s: %s=%s: directories come from tmpfiles (systemd would chown them)", name, k, v)
			}
		}
	}
	if acq.get("Service", "PrivateNetwork") != "yes" || acq.get("Service", "RestrictAddressFamilies") != "AF_UNIX" {
		t.Error("acquire may reach the network")
	}
	if rw := up.all("Service", "ReadWritePaths"); !slices.Equal(rw, []string{"/var/lib/medagent/uplink", "/var/lib/medagent/handoff", "/run/medagent-uplink"}) {
		t.Errorf("uplink ReadWritePaths = %v: it must write only its own state, the hand-off and its socket", rw)
	}
	if d := up.all("Service", "DeviceAllow"); !slices.Equal(d, []string{"/dev/tpmrm0", "rw"}) {
		t.Errorf("uplink DeviceAllow = %v, want only the TPM", d)
	}
	for _, p := range acq.all("Service", "ReadWritePaths") {
		if strings.Contains(p, "uplink") || strings.Contains(p, "handoff") {
			t.Errorf("acquire may write %s (the uplink's)", p)
		}
	}
}

// sysusers parses the sysusers.d file: users (u lines) and memberships
// (user -> groups, from m lines).
func sysusers(t *testing.T) (users map[string]bool, groups map[string]bool, member map[string][]string) {
	t.Helper()
	b, err := os.ReadFile("systemd/medagent.sysusers")
	if err != nil {
		t.Fatal(err)
	}
	users, groups, member = map[string]bool{}, map[string]bool{}, map[string][]string{}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch f[0] {
		case "u":
			users[f[1]], groups[f[1]] = true, true
		case "g":
			groups[f[1]] = true
		case "m":
			member[f[1]] = append(member[f[1]], f[2])
		default:
			t.Fatalf("sysusers: unknown line %q", l)
		}
	}
	return
}

func TestSysusers(t *testing.T) {
	users, groups, member := sysusers(t)
	for _, u := range []string{"medagent-acq", "medagent-up"} {
		if !users[u] {
			t.Errorf("no user %s", u)
		}
	}
	if slices.Contains(member["medagent-up"], "medtech") || slices.Contains(member["medagent-up"], "medagent-acq") {
		t.Errorf("uplink user groups %v: must not be a technician nor in acquire's group", member["medagent-up"])
	}
	if !slices.Contains(member["medagent-up"], "medagent") {
		t.Error("uplink user not in group medagent: it cannot read the spool")
	}
	// Every group a unit names exists (the root units name none).
	for _, f := range []string{"systemd/medagent-acquire.service", "systemd/medagent-uplink.service",
		"systemd/medagent-reboot.service", "systemd/medagent-datadir.service", "systemd/medagent.service"} {
		u := parseUnit(t, f)
		for _, g := range append(u.all("Service", "SupplementaryGroups"), u.get("Service", "Group")) {
			if g != "" && !groups[g] {
				t.Errorf("%s: group %s is not made by the sysusers file", f, g)
			}
		}
	}
}

// tmpfiles returns path -> [mode, user, group] of the d lines.
func tmpfiles(t *testing.T) map[string][3]string {
	t.Helper()
	b, err := os.ReadFile("systemd/medagent.conf.tmpfiles")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][3]string{}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 5 && f[0] == "d" {
			out[f[1]] = [3]string{f[2], f[3], f[4]}
		}
	}
	return out
}

func TestDirectoriesPerRole(t *testing.T) {
	d := tmpfiles(t)
	want := map[string][3]string{
		"/var/lib/medagent/acquire":   {"0700", "medagent-acq", "medagent-acq"},
		"/var/lib/medagent/uplink":    {"0700", "medagent-up", "medagent-up"},
		"/var/lib/medagent/spool":     {"2750", "medagent-acq", "medagent"},
		"/var/lib/medagent/shared":    {"2750", "medagent-acq", "medagent"},
		"/var/lib/medagent/handoff":   {"2750", "medagent-up", "medagent-acq"},
		"/run/medagent":               {"2750", "medagent-acq", "medtech"},
		"/run/medagent-uplink":        {"2750", "medagent-up", "medtech"},
		"/var/lib/medagent/provision": {"0750", "root", "medagent"},
	}
	for p, w := range want {
		if got, ok := d[p]; !ok || got != w {
			t.Errorf("tmpfiles %s = %v, want %v", p, got, w)
		}
	}
	// Nothing of the medagent tree is group- or world-writable.
	for p, m := range d {
		v, err := strconv.ParseUint(m[0], 8, 32)
		if err != nil {
			t.Fatalf("%s: mode %q", p, m[0])
		}
		if v&0o022 != 0 {
			t.Errorf("%s: mode %s is writable by group or others", p, m[0])
		}
	}
}

func TestProductConfig(t *testing.T) {
	b, err := os.ReadFile("medagent.yaml")
	if err != nil {
		t.Fatal(err)
	}
	product, err := config.Parse("medagent.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	// The fleet form: a list of nodes (placeholders the device layer replaces).
	if product.MQTT.Broker != "" || len(product.MQTT.Brokers) < 2 {
		t.Errorf("product mqtt: broker %q, brokers %v; want the cluster's node list and no single broker", product.MQTT.Broker, product.MQTT.Brokers)
	}
	for _, c := range []struct {
		dev         string
		broker      string
		brokers     []string
		fleet, rate int
	}{
		{"device: {id: MA-0042}\nmqtt:\n  brokers: [\"tls://10.1.2.3:8883\", \"tls://10.1.2.4:8883\"]\n  fleet_size: 800\n", "",
			[]string{"tls://10.1.2.3:8883", "tls://10.1.2.4:8883"}, 800, 20},
		// A site with one broker (the older form) replaces the node list too.
		{"device: {id: MA-0042}\nmqtt: {broker: \"tls://10.1.2.3:8883\"}\n", "tls://10.1.2.3:8883", nil, 100, 20},
	} {
		cfg, err := config.ParseLayers(config.Layer{Name: "medagent.yaml", Data: b}, config.Layer{Name: "device.yaml", Data: []byte(c.dev)})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Device.ID != "MA-0042" || cfg.Device.Type != "medagent-bedside" || cfg.MQTT.Broker != c.broker || !slices.Equal(cfg.MQTT.Brokers, c.brokers) ||
			cfg.MQTT.FleetSize != c.fleet || cfg.MQTT.FleetConnectRate != c.rate {
			t.Errorf("device layer %q not applied: %+v %+v", c.dev, cfg.Device, cfg.MQTT)
		}
	}
	cfg, err := config.ParseLayers(config.Layer{Name: "medagent.yaml", Data: b}, config.Layer{Name: "device.yaml", Data: []byte("device: {id: MA-0042}\n")})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cfg.Sensors {
		if sensors.IsSim(s.Bus) || sensors.IsSim(s.DRDY) {
			t.Errorf("sensor %s is simulated in the product configuration", s.Name)
		}
	}
	if cfg.MQTT.KeyFile != "" || cfg.Trust.TPM != "/dev/tpmrm0" {
		t.Errorf("device key: key_file %q, tpm %q; want the TPM and no key file", cfg.MQTT.KeyFile, cfg.Trust.TPM)
	}
	for _, p := range []string{cfg.Spool.Dir, cfg.Spool.KeyFile, cfg.Update.Journal, cfg.Commands.Keyring, cfg.Commands.NonceFile} {
		if !strings.HasPrefix(p, "/var/lib/medagent/") {
			t.Errorf("%s is not on the data partition", p)
		}
	}
}

// TestSecurityExposure runs systemd's own assessment of each service: the
// overall exposure must stay at or below 3.0 (make qemu-test measures it
// again inside the bench image, where the units are loaded).
func TestSecurityExposure(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze not found: apt-get install systemd")
	}
	re := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)
	for _, f := range []string{"systemd/medagent-acquire.service", "systemd/medagent-uplink.service",
		"systemd/medagent-reboot.service", "systemd/medagent-datadir.service", "systemd/medagent.service"} {
		out, _ := exec.Command(sa, "security", "--offline=yes", "--no-pager", f).CombinedOutput()
		m := re.FindSubmatch(out)
		if m == nil {
			t.Fatalf("%s: no exposure level in:\n%s", f, out)
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		t.Logf("%s: exposure %.1f", f, v)
		if v > 3.0 {
			t.Errorf("%s: exposure %.1f > 3.0:\n%s", f, v, out)
		}
	}
}
