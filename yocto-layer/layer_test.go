package yoctolayer

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"medagent/config"
)

const layer = "meta-medagent"

func bitbakeFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(layer, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch filepath.Ext(p) {
		case ".bb", ".bbappend", ".conf":
			if !strings.Contains(p, string(filepath.Separator)+"files"+string(filepath.Separator)) {
				files = append(files, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", layer, err)
	}
	if len(files) < 5 {
		t.Fatalf("only %d BitBake files in %s: %v", len(files), layer, files)
	}
	return files
}

func mustParse(t *testing.T, path string) *recipe {
	t.Helper()
	r, errs := parseBitBake(path)
	for _, err := range errs {
		t.Error(err)
	}
	if r == nil {
		t.FailNow()
	}
	return r
}

func TestBitBakeSyntaxAndSources(t *testing.T) {
	for _, p := range bitbakeFiles(t) {
		t.Run(p, func(t *testing.T) {
			r := mustParse(t, p)
			for _, err := range r.missingFiles() {
				t.Error(err)
			}
		})
	}
}

func TestLayerConf(t *testing.T) {
	r := mustParse(t, filepath.Join(layer, "conf", "layer.conf"))
	want := map[string]string{
		"LAYERSERIES_COMPAT_medagent": "scarthgap",
		"BBFILE_COLLECTIONS":          "medagent",
		"BBFILE_PATTERN_medagent":     "^${LAYERDIR}/",
	}
	for k, v := range want {
		if got := r.vars[k]; got != v {
			t.Errorf("layer.conf %s = %q, want %q", k, got, v)
		}
	}
	if !strings.Contains(r.vars["BBFILES"], "${LAYERDIR}/recipes-*/*/*.bb") {
		t.Errorf("BBFILES %q does not collect recipes-*/*/*.bb", r.vars["BBFILES"])
	}
	// Every recipe must be reachable through BBFILES.
	for _, p := range bitbakeFiles(t) {
		if filepath.Ext(p) != ".conf" && len(strings.Split(p, string(filepath.Separator))) != 4 {
			t.Errorf("%s is not at recipes-*/NAME/FILE: BBFILES would not find it", p)
		}
	}
}

func TestAgentRecipe(t *testing.T) {
	r := mustParse(t, filepath.Join(layer, "recipes-medagent", "medagent", "medagent_git.bb"))
	for _, c := range []string{"go-mod", "systemd", "useradd"} {
		if !slices.Contains(r.inherit, c) {
			t.Errorf("recipe does not inherit %s (inherits %v)", c, r.inherit)
		}
	}
	checks := []struct{ key, want string }{
		{"GO_IMPORT", "medagent"},
		{"CGO_ENABLED", "0"},
		{"GO_INSTALL", "${GO_IMPORT}/cmd/medagent"},
		{"LICENSE", "CLOSED"},
		{"SYSTEMD_SERVICE:${PN}", "medagent-acquire.service medagent-uplink.service"},
	}
	for _, c := range checks {
		if got := r.vars[c.key]; got != c.want {
			t.Errorf("%s = %q, want %q", c.key, got, c.want)
		}
	}
	users := r.vars["USERADD_PARAM:${PN}"]
	for _, u := range []string{" medagent;", " medagent-acq;", " medagent-up"} {
		if !strings.Contains(users, u) {
			t.Errorf("USERADD_PARAM has no user%s: %q", strings.TrimSuffix(u, ";"), users)
		}
	}
	groups := r.vars["GROUPADD_PARAM:${PN}"]
	for _, g := range []string{"medagent", "medtech"} {
		if !regexp.MustCompile(`--system ` + g + `\s*(;|$)`).MatchString(groups) {
			t.Errorf("GROUPADD_PARAM has no group %s: %q", g, groups)
		}
	}
	if !strings.Contains(r.vars["SRC_URI"], "fw_env.config") || !strings.Contains(r.vars["SRC_URI"], "medagent.yaml") {
		t.Errorf("SRC_URI misses fw_env.config or medagent.yaml: %q", r.vars["SRC_URI"])
	}
}

func TestUnits(t *testing.T) {
	dir := filepath.Join(layer, "recipes-medagent", "medagent", "files")
	common := map[string]string{
		"Type": "notify", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
		"PrivateTmp": "yes", "CapabilityBoundingSet": "", "Group": "medagent",
	}
	tests := []struct {
		file string
		want map[string]string
		exec string
	}{
		{"medagent.service", map[string]string{"User": "medagent"}, "--role all"},
		{"medagent-acquire.service", map[string]string{"User": "medagent-acq", "PrivateNetwork": "yes", "DevicePolicy": "closed"}, "--role acquire"},
		{"medagent-uplink.service", map[string]string{"User": "medagent-up", "DevicePolicy": "closed", "PrivateDevices": "yes"}, "--role uplink"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			u, err := parseUnit(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{"Unit", "Service", "Install"} {
				if u[s] == nil {
					t.Errorf("no [%s] section", s)
				}
			}
			for k, v := range common {
				if vals, ok := u["Service"][k]; !ok || u.get("Service", k) != v {
					t.Errorf("[Service] %s = %q, want %q", k, vals, v)
				}
			}
			for k, v := range tc.want {
				if got := u.get("Service", k); got != v {
					t.Errorf("[Service] %s = %q, want %q", k, got, v)
				}
			}
			if rw := strings.Fields(u.get("Service", "ReadWritePaths")); !slices.Equal(rw, []string{"/var/lib/medagent", "/run/medagent"}) {
				t.Errorf("[Service] ReadWritePaths = %q, want /var/lib/medagent /run/medagent only", rw)
			}
			// systemd chowns a StateDirectory=/RuntimeDirectory= to the unit's
			// user: the two roles would take the shared spool from each other.
			for _, k := range []string{"StateDirectory", "RuntimeDirectory"} {
				if v, ok := u["Service"][k]; ok {
					t.Errorf("[Service] %s=%q: the shared directories come from tmpfiles", k, v)
				}
			}
			if ws := u.get("Service", "WatchdogSec"); ws == "" || ws == "0" {
				t.Errorf("[Service] WatchdogSec = %q: the agent must be watched", ws)
			}
			ex := u.get("Service", "ExecStart")
			if !strings.HasPrefix(ex, "/usr/bin/medagent run ") || !strings.Contains(ex, tc.exec) || !strings.Contains(ex, "--config /etc/medagent/medagent.yaml") {
				t.Errorf("ExecStart = %q, want medagent run %s with the installed config", ex, tc.exec)
			}
			if u.get("Install", "WantedBy") != "multi-user.target" {
				t.Errorf("[Install] WantedBy = %q", u.get("Install", "WantedBy"))
			}
		})
	}
	acq, _ := parseUnit(filepath.Join(dir, "medagent-acquire.service"))
	for _, d := range []string{"char-i2c rw", "char-spi rw", "char-gpiochip rw", "char-ttyS rw"} {
		if !slices.Contains(acq["Service"]["DeviceAllow"], d) {
			t.Errorf("acquire: no DeviceAllow=%s (has %q)", d, acq["Service"]["DeviceAllow"])
		}
	}
	tmp, err := os.ReadFile(filepath.Join(dir, "medagent.conf.tmpfiles"))
	if err != nil {
		t.Fatal(err)
	}
	// The spool is for the two roles only; /run/medagent may be traversed
	// (o+x, not readable) so that technicians in group medtech reach the
	// control socket, whose own mode (0660, group medtech) decides.
	for d, mode := range map[string]string{"/var/lib/medagent/spool": "2770", "/run/medagent": "2771"} {
		if !regexp.MustCompile(`(?m)^d ` + regexp.QuoteMeta(d) + ` +` + mode + ` medagent medagent `).Match(tmp) {
			t.Errorf("tmpfiles: %s is not a setgid %s directory of group medagent", d, mode)
		}
	}
	up, _ := parseUnit(filepath.Join(dir, "medagent-uplink.service"))
	if len(up["Service"]["DeviceAllow"]) != 0 {
		t.Errorf("uplink may open devices: %q", up["Service"]["DeviceAllow"])
	}
}

func TestInstalledConfigParses(t *testing.T) {
	p := filepath.Join(layer, "recipes-medagent", "medagent", "files", "medagent.yaml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(p, b)
	if err != nil {
		t.Fatalf("the installed configuration does not parse: %v", err)
	}
	if cfg.Spool.Dir != "/var/lib/medagent/spool" {
		t.Errorf("spool.dir = %q: the units only let the agent write /var/lib/medagent", cfg.Spool.Dir)
	}
	if cfg.Spool.KeyFile == "" {
		t.Error("spool.key_file is empty: a device must not spool in plaintext")
	}
}

func TestWKSLayout(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(layer, "wic", "medagent-ab.wks"))
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "part ") {
			parts = append(parts, l)
		}
	}
	if len(parts) != 4 {
		t.Fatalf("%d partitions, want boot, rootfs A, rootfs B, data", len(parts))
	}
	has := func(i int, s ...string) {
		for _, x := range s {
			if !strings.Contains(parts[i], x) {
				t.Errorf("partition %d %q lacks %q", i+1, parts[i], x)
			}
		}
	}
	has(0, "--fstype=vfat", "--active", "/uboot")
	has(1, "--source rootfs", "--fstype=ext4", "--label rootA")
	has(2, "--source rootfs", "--fstype=ext4", "--label rootB")
	has(3, "/data", "--fstype=ext4")
	size := regexp.MustCompile(`--fixed-size (\S+)`)
	if a, b := size.FindString(parts[1]), size.FindString(parts[2]); a == "" || a != b {
		t.Errorf("rootfs A and B sizes differ: %q vs %q", a, b)
	}
}

func TestBootScript(t *testing.T) {
	dir := filepath.Join(layer, "recipes-bsp", "medagent-boot-script", "files")
	b, err := os.ReadFile(filepath.Join(dir, "boot.cmd"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, v := range []string{"mender_boot_part", "mender_boot_part_hex", "upgrade_available", "bootcount", "bootlimit", "altbootcmd",
		"setexpr bootcount ${bootcount} + 1", "env import -c", "env export -c", "fatwrite", "medagent.slot=${medagent_slot}"} {
		if !strings.Contains(s, v) {
			t.Errorf("boot.cmd lacks %q", v)
		}
	}
	// Device names come from the machine config, never from the script.
	for _, hard := range []string{"virtio", "/dev/vda", "/dev/mmcblk", "ttyAMA", "ttyS"} {
		for _, line := range strings.Split(s, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "#") && strings.Contains(line, hard) {
				t.Errorf("boot.cmd hard-codes %q: %s", hard, line)
			}
		}
	}
	// Every placeholder is set by the recipe (with a default) and substituted.
	bbPath := filepath.Join(layer, "recipes-bsp", "medagent-boot-script", "medagent-boot-script.bb")
	r := mustParse(t, bbPath)
	bb, err := os.ReadFile(bbPath)
	if err != nil {
		t.Fatal(err)
	}
	compile := string(bb)
	vals := map[string]string{}
	for _, m := range regexp.MustCompile(`@@([A-Z0-9_]+)@@`).FindAllStringSubmatch(s, -1) {
		name := m[1]
		if !strings.Contains(compile, "@@"+name+"@@|") {
			t.Errorf("medagent-boot-script.bb do_compile does not substitute @@%s@@", name)
		}
		if strings.HasSuffix(name, "_HEX") {
			continue
		}
		v, ok := r.vars[name]
		if !ok || v == "" {
			t.Errorf("medagent-boot-script.bb sets no default for %s", name)
		}
		vals[name] = v
	}
	// Both fw_env.config files name the two copies the script reads.
	for _, fwPath := range []string{
		filepath.Join(layer, "recipes-medagent", "medagent", "files", "fw_env.config"),
		filepath.Join(layer, "recipes-bsp", "libubootenv", "files", "fw_env.config"),
		filepath.Join("..", "configs", "fw_env.config"), // the bench image's
	} {
		fw, err := os.ReadFile(fwPath)
		if err != nil {
			t.Fatal(err)
		}
		var lines [][]string
		for _, l := range strings.Split(string(fw), "\n") {
			if f := strings.Fields(l); len(f) >= 3 && !strings.HasPrefix(l, "#") {
				lines = append(lines, f)
			}
		}
		want := [][]string{{"/uboot/" + vals["MEDAGENT_ENV_FILE1"], "0x0000", vals["MEDAGENT_ENV_SIZE"]},
			{"/uboot/" + vals["MEDAGENT_ENV_FILE2"], "0x0000", vals["MEDAGENT_ENV_SIZE"]}}
		if !slices.EqualFunc(lines, want, slices.Equal) {
			t.Errorf("%s: copies %v, boot script reads %v", fwPath, lines, want)
		}
	}
	img := mustParse(t, filepath.Join(layer, "recipes-core", "images", "medagent-image.bb"))
	for _, f := range []string{"boot.scr", vals["MEDAGENT_ENV_FILE1"], vals["MEDAGENT_ENV_FILE2"]} {
		if !slices.Contains(strings.Fields(img.vars["IMAGE_BOOT_FILES"]), f) {
			t.Errorf("medagent-image.bb IMAGE_BOOT_FILES %q lacks %s", img.vars["IMAGE_BOOT_FILES"], f)
		}
	}
	// Rendered with the defaults, it compiles.
	vals["MEDAGENT_CONSOLE"] = "ttyAMA0,115200" // a Python expression in the recipe
	vals["MEDAGENT_ROOT_PART_A_HEX"], vals["MEDAGENT_ROOT_PART_B_HEX"] = vals["MEDAGENT_ROOT_PART_A"], vals["MEDAGENT_ROOT_PART_B"]
	rendered := regexp.MustCompile(`@@([A-Z0-9_]+)@@`).ReplaceAllStringFunc(s, func(m string) string { return vals[strings.Trim(m, "@")] })
	tmp := t.TempDir()
	if err := os.WriteFile(filepath.Join(tmp, "boot.cmd"), []byte(rendered), 0o644); err != nil {
		t.Fatal(err)
	}
	mkimage, err := exec.LookPath("mkimage")
	if err != nil {
		t.Fatal("mkimage not found: install Debian package u-boot-tools")
	}
	out := filepath.Join(tmp, "boot.scr")
	if o, err := exec.Command(mkimage, "-A", "arm64", "-O", "linux", "-T", "script", "-C", "none", "-d", filepath.Join(tmp, "boot.cmd"), out).CombinedOutput(); err != nil {
		t.Fatalf("mkimage: %v\n%s", err, o)
	}
}
