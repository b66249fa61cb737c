package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestBashCompletion checks that the completion script parses and offers
// exactly the commands the CLI has.
func TestBashCompletion(t *testing.T) {
	p := filepath.Join("..", "scripts", "medagent.bash-completion")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`local cmds="([^"]*)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s: no cmds list", p)
	}
	got := strings.Fields(string(m[1]))
	want := []string{"help"}
	for _, c := range Root().Subs {
		want = append(want, c.Name)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("completion offers %v, the CLI has %v", got, want)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash not found (Debian package bash)")
	}
	script := "source " + p + `; COMP_WORDS=(medagent alarms a); COMP_CWORD=2; _medagent; echo "${COMPREPLY[@]}"`
	out, err := exec.Command(bash, "-c", script).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ack" {
		t.Fatalf("completing 'medagent alarms a': %q, %v; want ack", out, err)
	}
}
