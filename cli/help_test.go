package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"medagent/control"
	"medagent/internal/cmdline"
)

// goldenFile compares got with testdata/NAME, rewriting it with -update.
func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test ./cli -run %s -update writes it)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", p, diff)
	}
}

func run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestHelpTree walks the whole command tree: -h, --help and "help PATH"
// print the same usage on stdout and exit 0; it names the command, every
// flag with its default, and a leaf has examples; the text is pinned by a
// golden file per command.
func TestHelpTree(t *testing.T) {
	n := 0
	cmdline.Walk(Root(), func(path []*cmdline.Command) {
		names := strings.Fields(cmdline.Name(path))[1:]
		c := path[len(path)-1]
		t.Run(strings.Join(append([]string{"medagent"}, names...), "_"), func(t *testing.T) {
			n++
			var first string
			for _, args := range [][]string{append(names[:len(names):len(names)], "-h"), append(names[:len(names):len(names)], "--help"), append([]string{"help"}, names...)} {
				code, out, errb := run(args...)
				if code != ExitOK || errb != "" {
					t.Fatalf("medagent %v: exit %d, stderr %q", args, code, errb)
				}
				if first == "" {
					first = out
				} else if out != first {
					t.Errorf("medagent %v prints other help than %v -h", args, names)
				}
			}
			if !strings.HasPrefix(first, "Usage: "+cmdline.Name(path)) {
				t.Errorf("help does not start with its usage line:\n%s", first)
			}
			for _, f := range cmdline.Flags(path) {
				if !strings.Contains(first, "  "+f.Names+"\n") || !strings.Contains(strings.Join(strings.Fields(first), " "), "(default: "+f.Default+")") {
					t.Errorf("help lacks flag %s with its default %q", f.Names, f.Default)
				}
			}
			if c.Flags != nil && (len(c.Examples) == 0 || !strings.Contains(first, "\nExamples:\n")) {
				t.Errorf("%s has no examples", cmdline.Name(path))
			}
			for _, m := range regexp.MustCompile(`-(-?[a-z][a-z-]*)`).FindAllStringSubmatch(c.Usage, -1) {
				if !strings.Contains(first, "  "+m[0]+"\n") && !strings.Contains(first, "  "+m[0]+" ") {
					t.Errorf("synopsis names %s, which is not a flag of the command", m[0])
				}
			}
			for _, s := range c.Subs {
				if !strings.Contains(first, "\n  "+s.Name+" ") {
					t.Errorf("help does not list subcommand %s", s.Name)
				}
			}
			for _, l := range strings.Split(first, "\n") {
				if len([]rune(l)) > 80 && len(strings.Fields(l)) > 1 {
					t.Errorf("line wider than 80 columns: %q", l)
				}
			}
			goldenFile(t, filepath.Join("help", strings.Join(append([]string{"medagent"}, names...), "_")+".txt"), []byte(first))
		})
	})
	if n < 30 {
		t.Errorf("walked %d commands; the tree has more", n)
	}
}

// TestUsageMistakes: a wrong flag, a missing or unknown subcommand or a
// stray argument exits 2 with one line on stderr that names the command and
// says where help is; nothing goes to stdout.
func TestUsageMistakes(t *testing.T) {
	var cases [][]string
	cmdline.Walk(Root(), func(path []*cmdline.Command) {
		names := strings.Fields(cmdline.Name(path))[1:]
		c := path[len(path)-1]
		switch {
		case len(path) == 1:
			cases = append(cases, []string{"no-such-command"})
		case c.Flags != nil:
			cases = append(cases, append(names[:len(names):len(names)], "--no-such-flag"))
		case c.Default == "":
			cases = append(cases, names, append(names[:len(names):len(names)], "no-such-sub"))
		default:
			cases = append(cases, append(names[:len(names):len(names)], "no-such-sub"))
		}
	})
	cases = append(cases, []string{"version", "extra"}, []string{"config", "check"}, []string{"help", "nope"})
	hint := regexp.MustCompile(`^medagent[a-z -]*: .+ \(see 'medagent[a-z -]* -h'\)\n$`)
	for _, args := range cases {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			code, out, errb := run(args...)
			if code != ExitUsage || out != "" || !hint.MatchString(errb) {
				t.Errorf("medagent %v: exit %d, stdout %q, stderr %q; want exit 2 and one hint line", args, code, out, errb)
			}
		})
	}
}

// TestBareCommand: medagent alone shows the command list on stderr, exit 2.
func TestBareCommand(t *testing.T) {
	code, out, errb := run()
	if code != ExitUsage || out != "" || !strings.Contains(errb, "Commands:") {
		t.Errorf("medagent: exit %d, stdout %q, stderr %q", code, out, errb)
	}
}

// TestManPage pins docs/medagent.1 to the command tree: it is what
// "medagent help --man" writes, and every command is in it.
func TestManPage(t *testing.T) {
	code, out, errb := run("help", "--man")
	if code != ExitOK || errb != "" {
		t.Fatalf("help --man: exit %d, %s", code, errb)
	}
	cmdline.Walk(Root(), func(path []*cmdline.Command) {
		if c := path[len(path)-1]; c.Flags != nil && !strings.Contains(out, ".SS "+strings.ReplaceAll(cmdline.Name(path), "-", `\-`)) {
			t.Errorf("man page lacks %s", cmdline.Name(path))
		}
	})
	p := filepath.Join("..", "docs", "medagent.1")
	if *update {
		if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test ./cli -run TestManPage -update writes it)", err)
	}
	if string(want) != out {
		t.Errorf("%s is not what 'medagent help --man' writes; run go test ./cli -run TestManPage -update", p)
	}
}

// TestReadmeCommands: the README's command list is the tree's synopses.
func TestReadmeCommands(t *testing.T) {
	var b strings.Builder
	b.WriteString("```\n")
	cmdline.Walk(Root(), func(path []*cmdline.Command) {
		if path[len(path)-1].Flags != nil {
			b.WriteString(cmdline.Synopsis(path) + "\n")
		}
	})
	b.WriteString("```\n")
	p := filepath.Join("..", "README.md")
	readme, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- commands: generated by go test ./cli -run TestReadmeCommands -update -->\n", "<!-- end of commands -->\n"
	i, j := bytes.Index(readme, []byte(begin)), bytes.Index(readme, []byte(end))
	if i < 0 || j < i {
		t.Fatalf("%s has no command list between %q and %q", p, begin, end)
	}
	got := string(readme[i+len(begin) : j])
	if *update && got != b.String() {
		readme = append(append(append([]byte{}, readme[:i+len(begin)]...), b.String()...), readme[j:]...)
		if err := os.WriteFile(p, readme, 0o644); err != nil {
			t.Fatal(err)
		}
		got = b.String()
	}
	if diff := cmp.Diff(b.String(), got); diff != "" {
		t.Errorf("README command list differs from the command tree (-tree +readme):\n%s", diff)
	}
}

// TestStatusLongDeviceID: on an 80-column terminal the device id, the
// first thing a technician reads, is shown whole, and so is every other
// identifier; only decoration wraps.
func TestStatusLongDeviceID(t *testing.T) {
	id := "MA-BEDSIDE-ICU3-ROOM-0412-" + strings.Repeat("X", 30) + "-END"
	url := "mqtts://broker.ward-7.st-elsewhere-general-hospital.example.org:8883"
	var b bytes.Buffer
	printStatus(&b, control.Status{Version: "1.4.0", Commit: "0123456789ab", DeviceID: id, Role: "all",
		Broker: control.Broker{Enabled: true, URL: url, LastError: "dial: connection refused"}}, time.Now())
	out := b.String()
	for _, want := range []string{id, url} {
		if !strings.Contains(out, want) {
			t.Errorf("status does not show %q whole:\n%s", want, out)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if len([]rune(l)) > 80 && len(strings.Fields(l)) > 2 {
			t.Errorf("line wider than 80 columns with room to wrap: %q", l)
		}
	}
}

func TestFitNeverCuts(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"short line", "short line"},
		{"broker       " + strings.Repeat("a", 40) + " " + strings.Repeat("b", 40),
			"broker       " + strings.Repeat("a", 40) + "\n             " + strings.Repeat("b", 40)},
		{strings.Repeat("x", 90), strings.Repeat("x", 90)},
	} {
		if got := fit(tc.in); got != tc.want {
			t.Errorf("fit(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
