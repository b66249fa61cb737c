package yoctolayer

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
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
		case ".bb", ".bbappend", ".conf", ".bbclass", ".inc":
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
		if ext := filepath.Ext(p); (ext == ".bb" || ext == ".bbappend") && len(strings.Split(p, string(filepath.Separator))) != 4 {
			t.Errorf("%s is not at recipes-*/NAME/FILE: BBFILES would not find it", p)
		}
	}
	// image_types_wic.bbclass already searches <layer>/wic of every layer in
	// BBPATH; an assignment here (even :prepend) would replace that default
	// and hide the other layers' wks files.
	for k := range r.vars {
		if strings.HasPrefix(k, "WKS_SEARCH_PATH") {
			t.Errorf("layer.conf sets %s: leave WKS_SEARCH_PATH to image_types_wic.bbclass", k)
		}
	}
}

// bbappends change recipes of other layers, hence every image of a build:
// this layer keeps its product changes in its own recipes and classes.
func TestNoUnconditionalBbappends(t *testing.T) {
	for _, p := range bitbakeFiles(t) {
		if filepath.Ext(p) != ".bbappend" {
			continue
		}
		r := mustParse(t, p)
		for k := range r.vars {
			if !strings.Contains(k, ":medagent") {
				t.Errorf("%s sets %s for every image: put it behind the medagent override or in a medagent recipe", p, k)
			}
		}
	}
}

func TestAgentRecipe(t *testing.T) {
	r := mustParse(t, agentRecipe)
	for _, c := range []string{"go-mod", "systemd", "useradd"} {
		if !slices.Contains(r.inherit, c) {
			t.Errorf("recipe does not inherit %s (inherits %v)", c, r.inherit)
		}
	}
	checks := []struct{ key, want string }{
		{"GO_IMPORT", "medagent"},
		{"CGO_ENABLED", "0"},
		{"GO_INSTALL", "${GO_IMPORT}/cmd/medagent"},
		{"S", "${WORKDIR}/git"},
		{"DEPENDS_GOLANG:class-target", "go-release-native"},
		{"GOTOOLCHAIN", "local"},
		{"GOBUILDFLAGS:remove", "-buildmode=pie"},
		{"SYSTEMD_SERVICE:${PN}", "medagent-acquire.service medagent-uplink.service medagent-reboot.path"},
	}
	for _, c := range checks {
		if got := r.vars[c.key]; got != c.want {
			t.Errorf("%s = %q, want %q", c.key, got, c.want)
		}
	}
	if !strings.HasPrefix(r.vars["GOPROXY"], "file://") {
		t.Errorf("GOPROXY = %q: do_compile must take the modules from the file:// proxy do_unpack fills", r.vars["GOPROXY"])
	}
	for k, v := range r.vars {
		switch {
		case strings.Contains(v, "AUTOREV"):
			t.Errorf("%s = %q: AUTOREV runs git ls-remote at parse time", k, v)
		case strings.Contains(v, "GO_SRCURI_DESTSUFFIX"):
			t.Errorf("%s uses GO_SRCURI_DESTSUFFIX, which exists only from Yocto 5.1", k)
		case strings.Contains(k, "[network]"):
			t.Errorf("%s: no task may need the network", k)
		case strings.HasPrefix(k, "INSANE_SKIP"):
			t.Errorf("%s = %q: no QA check is skipped", k, v)
		case strings.Contains(v, "-buildmode=pie") && k != "GOBUILDFLAGS:remove":
			t.Errorf("%s = %q: the binary is static, not PIE", k, v)
		case regexp.MustCompile(`(^|\s)-[sw](\s|$)`).MatchString(v) && strings.Contains(k, "LDFLAGS"):
			t.Errorf("%s = %q: OE strips in do_package and keeps the symbols in ${PN}-dbg", k, v)
		}
	}
	users := r.vars["USERADD_PARAM:${PN}"]
	// medagent.service (role all) runs as medagent-acq: no user medagent.
	for _, u := range []string{" medagent-acq;", " medagent-up"} {
		if !strings.Contains(users, u) {
			t.Errorf("USERADD_PARAM has no user%s: %q", strings.TrimSuffix(u, ";"), users)
		}
	}
	groups := r.vars["GROUPADD_PARAM:${PN}"]
	for _, g := range []string{"medagent", "medtech", "gpio", "i2c", "spi"} {
		if !regexp.MustCompile(`--system (-f )?` + g + `\s*(;|$)`).MatchString(groups) {
			t.Errorf("GROUPADD_PARAM has no group %s: %q", g, groups)
		}
	}
	if strings.Contains(r.vars["SRC_URI"], "file://") {
		t.Errorf("SRC_URI %q has file:// entries: the agent's files come from configs/ of the product source", r.vars["SRC_URI"])
	}

	inc := mustParse(t, goModsInc)
	if lic := inc.vars["LICENSE"]; lic == "CLOSED" || !strings.Contains(lic, "&") {
		t.Errorf("LICENSE = %q: the linked modules' licences must be declared", lic)
	}
}

// yocto-check-layer's test_readme: a README at the top of the layer that
// names its maintainer, says where patches go and gives an e-mail address.
// (It skips those checks when the text mentions another README, so this one
// must not.)
func TestLayerReadme(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(layer, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if regexp.MustCompile(`(?i)readme`).MatchString(s) {
		t.Error("the layer README mentions a README: yocto-check-layer would skip its checks")
	}
	for _, w := range []string{"maintainer", "patch", "scarthgap", "dependencies", "go-release-native"} {
		if !strings.Contains(strings.ToLower(s), w) {
			t.Errorf("the layer README does not mention %q", w)
		}
	}
	if !regexp.MustCompile(`^[^@]+@[^@]+`).MatchString(s) {
		t.Error("the layer README has no e-mail address")
	}
}
