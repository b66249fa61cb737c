package yoctolayer

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"medagent/config"
)

// One source for the device and the bench image: the agent recipe installs
// its units, tmpfiles, users, udev rules and configuration from configs/ of
// the product source, the same files qemu/ puts in the bench image.

// notInstalled are files of configs/ that no device gets.
var notInstalled = []string{
	"medagent.example.yaml", // every key with its default, for readers
	"doc.go",                // package configs: the tests of these files
}

// recipeConfigs returns the configs/ files the recipe installs (paths
// relative to configs/) and where.
func recipeConfigs(t *testing.T) map[string]string {
	t.Helper()
	r := mustParse(t, agentRecipe)
	out := map[string]string{}
	for _, pair := range strings.Fields(r.vars["MEDAGENT_CONFIGS"]) {
		src, dst, ok := strings.Cut(pair, ":")
		if !ok || src == "" || dst == "" {
			t.Fatalf("MEDAGENT_CONFIGS entry %q is not SOURCE:DESTINATION", pair)
		}
		out[src] = dst
	}
	// medagent.yaml is installed on its own (mode 0640, group medagent).
	if !strings.Contains(readText(t, agentRecipe), "${MEDAGENT_SRC}/configs/medagent.yaml ${D}${sysconfdir}/medagent/medagent.yaml") {
		t.Fatal("the recipe does not install configs/medagent.yaml as /etc/medagent/medagent.yaml")
	}
	out["medagent.yaml"] = "${sysconfdir}/medagent/medagent.yaml"
	return out
}

// configFiles lists the files under a configs/ directory.
func configFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			t.Errorf("%s is a symbolic link: configs/ holds the files themselves", p)
		}
		if !d.IsDir() && !strings.HasSuffix(p, "_test.go") {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

func compareInstalled(t *testing.T, where string, installed map[string]string, files []string) {
	t.Helper()
	for _, f := range files {
		if _, ok := installed[f]; !ok && !slices.Contains(notInstalled, f) {
			t.Errorf("%s: configs/%s is not installed by the recipe: add it to MEDAGENT_CONFIGS (or to notInstalled, saying why)", where, f)
		}
	}
	for src := range installed {
		if !slices.Contains(files, src) {
			t.Errorf("%s: the recipe installs configs/%s, which does not exist", where, src)
		}
	}
}

// TestRecipeInstallsConfigs: what the recipe installs is exactly what
// configs/ holds, in this tree and in the tree at SRCREV that it builds.
func TestRecipeInstallsConfigs(t *testing.T) {
	installed := recipeConfigs(t)
	compareInstalled(t, "this tree", installed, configFiles(t, filepath.Join("..", "configs")))
	compareInstalled(t, "SRCREV", installed, configFiles(t, filepath.Join(srcTree(t, recipeSRCREV(t)), "configs")))

	// The man page of the same commit.
	r := mustParse(t, agentRecipe)
	for _, page := range strings.Fields(r.vars["MEDAGENT_MAN_PAGES"]) {
		if err := exec.Command("git", "-C", "..", "cat-file", "-e", recipeSRCREV(t)+":"+page).Run(); err != nil {
			t.Errorf("MEDAGENT_MAN_PAGES names %s, which SRCREV does not have", page)
		}
	}
	if r.vars["MEDAGENT_MAN_PAGES"] == "" {
		t.Error("the recipe installs no man page (docs/medagent.1)")
	}

	// Units go where systemd looks, and every unit the recipe enables exists.
	for _, svc := range strings.Fields(r.vars["SYSTEMD_SERVICE:${PN}"]) {
		if installed["systemd/"+svc] != "${systemd_system_unitdir}/"+svc {
			t.Errorf("SYSTEMD_SERVICE names %s, which is not installed from configs/systemd", svc)
		}
	}
	for src, dst := range installed {
		switch {
		case strings.HasSuffix(src, ".service") && !strings.HasPrefix(dst, "${systemd_system_unitdir}/"),
			strings.HasSuffix(src, ".tmpfiles") && !strings.HasPrefix(dst, "${nonarch_libdir}/tmpfiles.d/"),
			strings.HasSuffix(src, ".sysusers") && !strings.HasPrefix(dst, "${nonarch_libdir}/sysusers.d/"),
			strings.HasSuffix(src, ".modules-load") && !strings.HasPrefix(dst, "${nonarch_libdir}/modules-load.d/"),
			strings.HasSuffix(src, ".rules") && !strings.HasPrefix(dst, "${nonarch_base_libdir}/udev/rules.d/"):
			t.Errorf("configs/%s is installed as %s, where systemd/udev do not look", src, dst)
		}
	}
}

// TestKernelModulesRecommended: the modules the image loads at boot
// (configs/systemd/medagent.modules-load) are in the image: the recipe
// recommends their kernel-module packages (recommends, not depends: a
// kernel that builds a driver in has no package for it).
func TestKernelModulesRecommended(t *testing.T) {
	r := mustParse(t, agentRecipe)
	rrec := strings.Fields(r.vars["RRECOMMENDS:${PN}"])
	if len(rrec) == 0 {
		t.Fatal("the recipe has no RRECOMMENDS:${PN}")
	}
	var mods []string
	for _, l := range strings.Split(readText(t, filepath.Join("..", "configs", "systemd", "medagent.modules-load")), "\n") {
		if l = strings.TrimSpace(l); l != "" && l[0] != '#' {
			mods = append(mods, l)
		}
	}
	if len(mods) == 0 {
		t.Fatal("medagent.modules-load names no module")
	}
	for _, m := range mods {
		// OE names a module's package after the module, '_' as '-'.
		pkg := "kernel-module-" + strings.ToLower(strings.ReplaceAll(m, "_", "-"))
		if !slices.Contains(rrec, pkg) {
			t.Errorf("medagent.modules-load loads %s: RRECOMMENDS:${PN} lacks %s", m, pkg)
		}
	}
	for _, dep := range strings.Fields(r.vars["RDEPENDS:${PN}"]) {
		if strings.HasPrefix(dep, "kernel-module-") {
			t.Errorf("RDEPENDS:${PN} has %s: an image whose kernel builds that driver in could not be built (RRECOMMENDS)", dep)
		}
	}
}

// account is a user as both sysusers.d and useradd describe it.
type account struct {
	group, home, shell string
	groups             []string // supplementary groups, sorted
}

const sysusersFile = "../configs/systemd/medagent.sysusers"

// sysusersFields splits a sysusers.d line; a quoted GECOS is one field.
func sysusersFields(l string) []string {
	var f []string
	for len(l) > 0 {
		l = strings.TrimLeft(l, " \t")
		if l == "" {
			break
		}
		end := strings.IndexAny(l, " \t")
		if l[0] == '"' {
			end = strings.Index(l[1:], `"`) + 2
		}
		if end < 0 || end > len(l) {
			end = len(l)
		}
		f = append(f, strings.Trim(l[:end], `"`))
		l = l[end:]
	}
	return f
}

func sysusersAccounts(t *testing.T) (users map[string]*account, groups []string) {
	t.Helper()
	users = map[string]*account{}
	for n, l := range strings.Split(readText(t, sysusersFile), "\n") {
		f := sysusersFields(l)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) < 3 {
			t.Fatalf("sysusers line %d: %q", n+1, l)
		}
		switch f[0] {
		case "g":
			groups = append(groups, f[1])
		case "u":
			a := &account{group: f[1], home: "/", shell: "/usr/sbin/nologin"}
			if _, g, ok := strings.Cut(f[2], ":"); ok {
				a.group = g
			} else {
				groups = append(groups, f[1]) // "u NAME -" makes the group NAME too
			}
			if len(f) > 4 && f[4] != "-" {
				a.home = f[4]
			}
			if len(f) > 5 && f[5] != "-" {
				a.shell = f[5]
			}
			users[f[1]] = a
		case "m":
			if users[f[1]] == nil {
				t.Fatalf("sysusers line %d: m %s before u %s", n+1, f[1], f[1])
			}
			users[f[1]].groups = append(users[f[1]].groups, f[2])
		default:
			t.Fatalf("sysusers line %d: type %q not used here", n+1, f[0])
		}
	}
	for _, u := range users {
		sort.Strings(u.groups)
	}
	sort.Strings(groups)
	return users, groups
}

func useraddAccounts(t *testing.T) (users map[string]*account, groups []string) {
	t.Helper()
	r := mustParse(t, agentRecipe)
	users = map[string]*account{}
	for _, cmd := range strings.Split(r.vars["GROUPADD_PARAM:${PN}"], ";") {
		if f := strings.Fields(cmd); len(f) > 0 {
			groups = append(groups, f[len(f)-1])
		}
	}
	for _, cmd := range strings.Split(r.vars["USERADD_PARAM:${PN}"], ";") {
		f := strings.Fields(cmd)
		if len(f) == 0 {
			continue
		}
		a := &account{}
		for i := 0; i+1 < len(f); i++ {
			switch f[i] {
			case "--gid":
				a.group = f[i+1]
			case "--groups":
				a.groups = strings.Split(f[i+1], ",")
			case "--home-dir":
				a.home = f[i+1]
			case "--shell":
				a.shell = f[i+1]
			}
		}
		sort.Strings(a.groups)
		users[f[len(f)-1]] = a
	}
	sort.Strings(groups)
	return users, groups
}

// TestUsersMatchSysusers: the users and groups the recipe creates at build
// time are the ones configs/systemd/medagent.conf.sysusers declares.
func TestUsersMatchSysusers(t *testing.T) {
	su, sg := sysusersAccounts(t)
	uu, ug := useraddAccounts(t)
	if !slices.Equal(sg, ug) {
		t.Errorf("groups: sysusers %v, recipe %v", sg, ug)
	}
	for name, a := range su {
		b := uu[name]
		if b == nil {
			t.Errorf("user %s: in sysusers, not in the recipe", name)
			continue
		}
		if a.group != b.group || !slices.Equal(a.groups, b.groups) || a.home != b.home || a.shell != b.shell {
			t.Errorf("user %s: sysusers %+v, recipe %+v", name, *a, *b)
		}
	}
	for name := range uu {
		if su[name] == nil {
			t.Errorf("user %s: in the recipe, not in sysusers", name)
		}
	}
	// The udev rules give the device nodes to the groups the acquire role is in.
	rules := readText(t, filepath.Join("..", "configs", "udev", "60-medagent.rules"))
	for _, g := range []string{"gpio", "i2c", "spi"} {
		if !strings.Contains(rules, `GROUP="`+g+`", MODE="0660"`) || !slices.Contains(su["medagent-acq"].groups, g) {
			t.Errorf("group %s: no udev rule giving it its device nodes, or medagent-acq is not in it", g)
		}
	}
	// systemd's own parser, when the machine has it.
	if sysusers, err := exec.LookPath("systemd-sysusers"); err == nil {
		root := t.TempDir()
		os.Mkdir(filepath.Join(root, "etc"), 0o755)
		abs, _ := filepath.Abs(sysusersFile)
		if out, err := exec.Command(sysusers, "--root="+root, abs).CombinedOutput(); err != nil {
			t.Errorf("systemd-sysusers rejects medagent.conf.sysusers: %v\n%s", err, out)
		}
	}
}

// TestArtifactInfo: the recipe installs the running software's name where
// the agent's Mender client reads it (config mender.artifact_info), from
// the one variable the layer defines for the release's artifact name, and
// the README writes the update artifact with that same variable.
func TestArtifactInfo(t *testing.T) {
	text := readText(t, agentRecipe)
	want := strings.Replace(config.Default().Mender.ArtifactInfo, "/etc/", "${D}${sysconfdir}/", 1)
	if !strings.Contains(text, `printf 'artifact_name=%s\n' "${MEDAGENT_ARTIFACT_NAME}" > `+want) {
		t.Errorf("the recipe does not write artifact_name=${MEDAGENT_ARTIFACT_NAME} to %s", want)
	}
	conf := mustParse(t, filepath.Join(layer, "conf", "layer.conf"))
	if conf.vars["MEDAGENT_ARTIFACT_NAME"] == "" {
		t.Error("layer.conf gives MEDAGENT_ARTIFACT_NAME no default")
	}
	if !regexp.MustCompile(`(?m)^MEDAGENT_ARTIFACT_NAME \?\?= `).MatchString(readText(t, filepath.Join(layer, "conf", "layer.conf"))) {
		t.Error("layer.conf must set MEDAGENT_ARTIFACT_NAME weakly (??=), so local.conf or the distro decides")
	}
	if !strings.Contains(readText(t, filepath.Join(layer, "README.md")), "MEDAGENT_ARTIFACT_NAME") {
		t.Error("README.md does not write the update artifact with MEDAGENT_ARTIFACT_NAME")
	}
}
