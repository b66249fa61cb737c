package yoctolayer

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The recipe builds the product at SRCREV, not the working tree: these
// helpers read that commit from the repository's own history.

var srcrevRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// recipeSRCREV returns the pinned SRCREV of the agent recipe.
func recipeSRCREV(t *testing.T) string {
	t.Helper()
	r := mustParse(t, agentRecipe)
	rev := r.vars["SRCREV"]
	if !srcrevRE.MatchString(rev) {
		t.Fatalf("SRCREV = %q: want a full 40-hex commit (no AUTOREV: it runs git ls-remote at parse time)", rev)
	}
	return rev
}

// git runs git in the repository that holds this layer.
func git(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = ".."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// srcTree checks out commit rev of this repository into a temporary
// directory (git archive: no work tree or index is touched).
func srcTree(t *testing.T, rev string) string {
	t.Helper()
	if err := exec.Command("git", "-C", "..", "cat-file", "-e", rev+"^{commit}").Run(); err != nil {
		if out, _ := exec.Command("git", "-C", "..", "rev-parse", "--is-shallow-repository").Output(); strings.TrimSpace(string(out)) == "true" {
			t.Skipf("SKIPPED: this is a shallow clone without SRCREV %s, so the recipe's sources at SRCREV cannot be checked here; a full clone (git fetch --unshallow) checks them", rev)
		}
		t.Fatalf("SRCREV %s is not in this clone's history (a shallow clone? run: git fetch --unshallow): %v", rev, err)
	}
	dir := t.TempDir()
	archive := git(t, "archive", "--format=tar", rev)
	tar := exec.Command("tar", "-x", "-C", dir)
	tar.Stdin = bytes.NewReader(archive)
	if out, err := tar.CombinedOutput(); err != nil {
		t.Fatalf("unpack SRCREV %s: %v: %s", rev, err, out)
	}
	return dir
}

// goEnv is the environment of a go command run on a tree at SRCREV: the
// module cache of the caller, no toolchain switching, no cgo.
func goEnv(extra ...string) []string {
	env := append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOFLAGS=-mod=readonly")
	return append(env, extra...)
}

func goCmd(t *testing.T, dir string, env []string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s (in %s): %v: %s", strings.Join(args, " "), filepath.Base(dir), err, stderr.String())
	}
	return out
}

// goDirective returns the go version go.mod in dir asks for.
func goDirective(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`(?m)^go\s+(\S+)\s*$`).FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("go.mod has no go directive")
	}
	return string(m[1]), nil
}

// versionAtLeast compares dotted Go versions (1.26.8 >= 1.26).
func versionAtLeast(have, want string) bool {
	h, w := strings.Split(have, "."), strings.Split(want, ".")
	for i := 0; i < len(w); i++ {
		var hv, wv int
		if i < len(h) {
			fmt.Sscan(h[i], &hv)
		}
		fmt.Sscan(w[i], &wv)
		if hv != wv {
			return hv > wv
		}
	}
	return true
}
