package yoctolayer

import (
	"archive/zip"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

var update = flag.Bool("update", false, "rewrite medagent-go-mods.inc from go.mod/go.sum at the recipe's SRCREV")

const (
	agentRecipe = "meta-medagent/recipes-medagent/medagent/medagent_git.bb"
	goModsInc   = "meta-medagent/recipes-medagent/medagent/medagent-go-mods.inc"
)

// The platforms the product ships; a module linked on any of them is fetched.
var targets = [][2]string{{"linux", "arm64"}, {"linux", "arm"}, {"linux", "amd64"}}

// moduleLicences is the SPDX expression of each module's licence, read from
// its licence files. A module not listed here fails the test: read its
// licence and add it (OE operators: & for and, | for or).
var moduleLicences = map[string]string{
	"github.com/creack/pty":               "MIT",
	"github.com/eclipse/paho.mqtt.golang": "EPL-2.0 | BSD-3-Clause", // EPL-2.0 or EDL-1.0 (BSD-3-Clause)
	"github.com/fxamacker/cbor/v2":        "MIT",
	"github.com/google/go-tpm":            "Apache-2.0",
	"github.com/gorilla/websocket":        "BSD-2-Clause",
	"github.com/klauspost/compress":       "BSD-3-Clause & Apache-2.0 & MIT",
	"github.com/ulikunitz/xz":             "BSD-3-Clause",
	"github.com/x448/float16":             "MIT",
	"go.bug.st/serial":                    "BSD-3-Clause",
	"golang.org/x/net":                    "BSD-3-Clause",
	"golang.org/x/sync":                   "BSD-3-Clause",
	"golang.org/x/sys":                    "BSD-3-Clause",
	"gopkg.in/yaml.v3":                    "MIT & Apache-2.0",
	"periph.io/x/conn/v3":                 "Apache-2.0",
	"periph.io/x/host/v3":                 "Apache-2.0",
}

// licenceFileRE matches the licence files at the root of a module zip
// (entries are "<module>@<version>/<file>").
var licenceFileRE = regexp.MustCompile(`^[^@]+@[^/]+/(LICEN[CS]E|COPYING|NOTICE|edl-v10|epl-v20)[^/]*$`)

type goModule struct {
	Path, Version  string
	Zip, GoMod     string // files in the module cache
	zipSum, modSum string // sha256
	licences       []licenceFile
}

type licenceFile struct{ name, md5 string }

// escapeModPath is the module proxy's case encoding (golang.org/x/mod/module.EscapePath).
func escapeModPath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func fileSHA256(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func zipLicences(t *testing.T, zipPath string) []licenceFile {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var out []licenceFile
	for _, f := range zr.File {
		if !licenceFileRE.MatchString(f.Name) {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		h := md5.New()
		_, err = io.Copy(h, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, licenceFile{f.Name, hex.EncodeToString(h.Sum(nil))})
	}
	slices.SortFunc(out, func(a, b licenceFile) int { return strings.Compare(a.name, b.name) })
	return out
}

// linkedModules lists the modules ./cmd/medagent links in tree dir, on every target.
func linkedModules(t *testing.T, dir string) []*goModule {
	t.Helper()
	seen := map[string]bool{}
	var mods []*goModule
	for _, tg := range targets {
		out := goCmd(t, dir, goEnv("GOOS="+tg[0], "GOARCH="+tg[1], "GOARM=7"), "list", "-deps",
			"-f", `{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}} {{if .Replace}}replaced{{end}}{{end}}{{end}}`, "./cmd/medagent")
		for _, l := range strings.Split(string(out), "\n") {
			f := strings.Fields(l)
			if len(f) == 0 || seen[f[0]+"@"+f[1]] {
				continue
			}
			if len(f) > 2 {
				t.Fatalf("module %s is replaced in go.mod: the recipe fetches modules from the module proxy only", f[0])
			}
			seen[f[0]+"@"+f[1]] = true
			mods = append(mods, &goModule{Path: f[0], Version: f[1]})
		}
	}
	slices.SortFunc(mods, func(a, b *goModule) int { return strings.Compare(a.Path, b.Path) })
	for _, m := range mods {
		var info struct{ Zip, GoMod, Error string }
		out := goCmd(t, dir, goEnv(), "mod", "download", "-json", m.Path+"@"+m.Version)
		if err := json.Unmarshal(out, &info); err != nil || info.Error != "" {
			t.Fatalf("go mod download %s@%s: %v %s", m.Path, m.Version, err, info.Error)
		}
		m.Zip, m.GoMod = info.Zip, info.GoMod
		m.zipSum, m.modSum = fileSHA256(t, m.Zip), fileSHA256(t, m.GoMod)
		m.licences = zipLicences(t, m.Zip)
	}
	return mods
}

// productLicence returns medagent's own licence at SRCREV: the SPDX id and
// LIC_FILES_CHKSUM entry of its LICENSE file, or CLOSED when there is none.
func productLicence(t *testing.T, dir string) (spdx, chksum string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "LICENSE"))
	if os.IsNotExist(err) {
		return "CLOSED", ""
	}
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(b)
	text := string(b)
	switch {
	case strings.Contains(text, "Apache License") && strings.Contains(text, "Version 2.0"):
		spdx = "Apache-2.0"
	case strings.Contains(text, "Permission is hereby granted, free of charge"):
		spdx = "MIT"
	case strings.Contains(text, "Redistribution and use in source and binary forms") && strings.Contains(text, "Neither the name"):
		spdx = "BSD-3-Clause"
	default:
		spdx = "Proprietary"
	}
	return spdx, "file://src/${GO_IMPORT}/LICENSE;md5=" + hex.EncodeToString(sum[:])
}

// renderGoModsInc writes medagent-go-mods.inc for SRCREV rev.
func renderGoModsInc(rev string, mods []*goModule, ownSPDX, ownChksum string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# Generated by "go test ./yocto-layer -run TestGoModules -update" from go.mod
# and go.sum at SRCREV %s: do not edit.
#
# The Go modules ./cmd/medagent links on %s, each as the zip
# and go.mod of the Go module proxy protocol, copied into a file:// proxy
# (GOPROXY in medagent_git.bb); go checks every one against go.sum.
GO_MOD_PROXY ?= "https://proxy.golang.org"

SRC_URI += " \
`, rev, targetList())
	for _, m := range mods {
		p := escapeModPath(m.Path) + "/@v/" + escapeModPath(m.Version)
		dir := "go-mod-proxy/" + path.Dir(p)
		for _, f := range []struct{ ext, sum string }{{".zip", m.zipSum}, {".mod", m.modSum}} {
			fmt.Fprintf(&b, "    ${GO_MOD_PROXY}/%s%s;downloadfilename=go-mod/%s%s;subdir=%s;unpack=0;sha256sum=%s \\\n", p, f.ext, p, f.ext, dir, f.sum)
		}
	}
	b.WriteString("\"\n\n")

	var exprs []string
	b.WriteString("# Licences: medagent's own (its LICENSE file; CLOSED if it had none),\n# then each module's, from the licence files at its root:\n")
	for _, m := range mods {
		fmt.Fprintf(&b, "#   %s %s: %s\n", m.Path, m.Version, moduleLicences[m.Path])
		// "A & B" adds A and B; a choice "A | B" stays one group.
		e := moduleLicences[m.Path]
		atoms := []string{"(" + e + ")"}
		if !strings.Contains(e, "|") {
			atoms = strings.Split(e, "&")
		}
		for _, a := range atoms {
			if a = strings.TrimSpace(a); !slices.Contains(exprs, a) {
				exprs = append(exprs, a)
			}
		}
	}
	slices.Sort(exprs) // "(" sorts first: choices lead
	b.WriteString("# The Go standard library linked into the binary is BSD-3-Clause (go-release-native).\n")
	fmt.Fprintf(&b, "LICENSE = \"%s & %s\"\n", ownSPDX, strings.Join(exprs, " & "))
	if ownSPDX == "Proprietary" {
		b.WriteString("NO_GENERIC_LICENSE[Proprietary] = \"src/${GO_IMPORT}/LICENSE\"\n")
	}
	b.WriteString("LIC_FILES_CHKSUM = \" \\\n")
	if ownChksum != "" {
		fmt.Fprintf(&b, "    %s \\\n", ownChksum)
	}
	for _, m := range mods {
		for _, l := range m.licences {
			fmt.Fprintf(&b, "    file://${GO_MOD_LICENSES}/%s;md5=%s \\\n", l.name, l.md5)
		}
	}
	b.WriteString("\"\n")
	return b.String()
}

func targetList() string {
	var s []string
	for _, tg := range targets {
		s = append(s, tg[0]+"/"+tg[1])
	}
	return strings.Join(s, ", ")
}

// TestGoModules: the modules the recipe fetches are exactly those the
// product links at SRCREV, with the checksums of the module proxy's files,
// and the licence of every one is declared with its licence files' md5.
// With -update it rewrites medagent-go-mods.inc.
func TestGoModules(t *testing.T) {
	rev := recipeSRCREV(t)
	dir := srcTree(t, rev)

	want, err := goDirective(dir)
	if err != nil {
		t.Fatal(err)
	}
	tc, _ := filepath.Glob("meta-medagent/recipes-devtools/go-release/go-release-native_*.bb")
	if len(tc) != 1 {
		t.Fatalf("want one go-release-native recipe, found %v", tc)
	}
	have := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(tc[0]), "go-release-native_"), ".bb")
	if !versionAtLeast(have, want) {
		t.Errorf("go.mod at SRCREV asks for go %s; go-release-native is %s: add the newer release", want, have)
	}

	mods := linkedModules(t, dir)
	for _, m := range mods {
		if _, ok := moduleLicences[m.Path]; !ok {
			t.Errorf("module %s has no entry in moduleLicences: read its licence files %v and add its SPDX expression", m.Path, m.licences)
		}
		if len(m.licences) == 0 {
			t.Errorf("module %s@%s has no licence file at its root", m.Path, m.Version)
		}
	}
	ownSPDX, ownChksum := productLicence(t, dir)
	got := renderGoModsInc(rev, mods, ownSPDX, ownChksum)
	if *update {
		if err := os.WriteFile(goModsInc, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(goModsInc)
	if err != nil {
		t.Fatal(err)
	}
	if string(old) != got {
		t.Errorf("%s is not what go.mod/go.sum at SRCREV %s give: run\n  go test ./yocto-layer -run TestGoModules -update\n(diff: have %d lines, want %d)", goModsInc, rev[:12], strings.Count(string(old), "\n"), strings.Count(got, "\n"))
	}
}
