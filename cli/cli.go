package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Exit codes.
const (
	ExitOK         = 0
	ExitFailed     = 1
	ExitUsage      = 2
	ExitNotRunning = 3
)

// usageError marks a mistake in how a command was called.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// exitError carries an explicit exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// env is what every command gets.
type env struct {
	stdout, stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"run", "run the agent: sample, process, spool and publish", runAgent},
		{"version", "print version, commit, Go version and platform", runVersion},
		{"config", "check a configuration file (config check FILE)", runConfig},
		{"replay", "replay a WFDB record through the edge algorithms", runReplay},
		{"artifact", "inspect or verify a Mender artifact (offline)", runArtifact},
		{"update", "install, inspect, commit or roll back a system update", runUpdateTech},
		{"spool", "show spool statistics (through the agent, or offline with --dir)", runSpoolTech},
		{"status", "show the running agent on one screen", runStatus},
		{"sensors", "list, read or watch the sensors of the running agent", runSensors},
		{"alarms", "list or acknowledge the active alarms", runAlarms},
		{"certs", "show the device certificate and CA (certs show)", runCerts},
		{"logs", "print the agent's recent logs (-f to follow)", runLogs},
		{"diag", "write a diagnostic bundle (diag bundle -o FILE)", runDiag},
		{"selftest", "probe every sensor, the spool and the broker", runSelftest},
		{"provision", "factory provisioning: make the device key and CSR, install the certificate", runProvision},
	}
}

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(stdout)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return exitCode(stderr, c.name, c.run(ctx, e, args[1:]))
		}
	}
	fmt.Fprintf(stderr, "medagent: unknown command %q; run 'medagent help'\n", args[0])
	return ExitUsage
}

func exitCode(stderr io.Writer, name string, err error) int {
	if err == nil || err == flag.ErrHelp {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) {
		return ExitOK
	}
	fmt.Fprintf(stderr, "medagent %s: %v\n", name, err)
	var ue *usageError
	var ee *exitError
	switch {
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &ee):
		return ee.code
	}
	return ExitFailed
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "medagent: the device agent of a bedside medical device")
	fmt.Fprintln(w, "\nUsage: medagent COMMAND [ARGS]\n\nCommands:")
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'medagent COMMAND -h' for a command's flags and examples.")
}

// newFlags makes a flag set whose errors are returned, not printed and exited.
func newFlags(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: medagent %s\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	return nil
}

// sub dispatches to a subcommand of a command group like "config check".
func sub(ctx context.Context, e *env, group string, args []string, subs map[string]func(context.Context, *env, []string) error) error {
	names := make([]string, 0, len(subs))
	for n := range subs {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 {
		return usagef("%s needs a subcommand: %s", group, strings.Join(names, ", "))
	}
	f, ok := subs[args[0]]
	if !ok {
		return usagef("unknown %s subcommand %q (known: %s)", group, args[0], strings.Join(names, ", "))
	}
	return f(ctx, e, args[1:])
}
