package yoctolayer

import (
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The device binary is built with the flags of scripts/device-buildflags
// (make build); the recipe reads that one list from the source it builds.

// shellFunc returns the body of the shell function name in a BitBake file.
func shellFunc(t *testing.T, text, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?ms)^` + regexp.QuoteMeta(name) + `\(\) \{\n(.*?)^\}$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("the recipe has no %s() { ... }", name)
	}
	return m[1]
}

// recipeGOFLAGS runs the recipe's do_compile:prepend as do_compile would,
// on the source tree src, and returns the GOFLAGS it leaves.
func recipeGOFLAGS(t *testing.T, body, src string) []string {
	t.Helper()
	// BitBake expands ${MEDAGENT_SRC} before the shell runs the function.
	body = strings.ReplaceAll(body, "${MEDAGENT_SRC}", src)
	if strings.Contains(body, "${") {
		t.Fatalf("do_compile:prepend uses BitBake variables other than MEDAGENT_SRC; extend this test:\n%s", body)
	}
	script := "set -e\nbbfatal() { echo \"bbfatal: $*\" >&2; exit 1; }\nexport GOFLAGS=-mod=readonly\n" + body + "\nprintf '%s' \"$GOFLAGS\"\n"
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("do_compile:prepend on %s: %v\n%s", src, err, out)
	}
	return strings.Fields(string(out))
}

// makeDEVFLAGS returns the build flags the Makefile in dir gives go build.
func makeDEVFLAGS(t *testing.T, dir string) []string {
	t.Helper()
	out, err := exec.Command("make", "-s", "-C", dir, "--no-print-directory",
		"--eval", "yocto-print-devflags: ; @echo $(DEVFLAGS)", "yocto-print-devflags").CombinedOutput()
	if err != nil {
		t.Fatalf("make in %s: %v\n%s", dir, err, out)
	}
	return strings.Fields(string(out))
}

// TestRecipeBuildFlags: the recipe hands the go command exactly the flags
// make build uses, read from scripts/device-buildflags of the source it
// builds (here and at SRCREV), with no second copy of the list; and the go
// command takes them from GOFLAGS.
func TestRecipeBuildFlags(t *testing.T) {
	text := readText(t, agentRecipe)
	for n, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "#") {
			continue
		}
		for _, copied := range []string{"-gcflags", "-tags", "nethttpomithttp2"} {
			if strings.Contains(l, copied) {
				t.Errorf("%s:%d: %q: a build flag written into the recipe; the list is scripts/device-buildflags", agentRecipe, n+1, l)
			}
		}
	}
	body := shellFunc(t, text, "do_compile:prepend")
	for _, tree := range []struct{ where, dir string }{
		{"this tree", ".."},
		{"SRCREV", srcTree(t, recipeSRCREV(t))},
	} {
		got := recipeGOFLAGS(t, body, tree.dir)
		want := append([]string{"-mod=readonly"}, makeDEVFLAGS(t, tree.dir)...)
		if len(want) < 3 || !slices.Contains(want, "-tags=nethttpomithttp2") {
			t.Fatalf("%s: make's DEVFLAGS %v: not the device build flags", tree.where, want[1:])
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: the recipe's GOFLAGS\n%v\nmake build's flags\n%v", tree.where, got, want)
		}
		if tree.where == "this tree" {
			// The go command reads every one of them from GOFLAGS.
			goCmd(t, "..", goEnv("GOFLAGS="+strings.Join(got, " ")), "list", "./cmd/medagent")
		}
	}
}
