package cmdline

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit codes of every command.
const (
	ExitOK         = 0
	ExitFailed     = 1
	ExitUsage      = 2
	ExitNotRunning = 3
)

// IO is where a command writes.
type IO struct {
	Stdout, Stderr io.Writer
}

// Run runs a leaf command with its positional arguments (flags already parsed).
type Run func(ctx context.Context, io IO, args []string) error

// Command is one node of the command tree: a group (Subs) or a leaf (Flags).
type Command struct {
	Name     string   // as typed: "install"
	Args     string   // positional arguments for the synopsis: "FILE|-|URL"
	Usage    string   // the flags part of the synopsis when "[flags]" says too little: "--config FILE [--role R]"
	Summary  string   // one line, lower case, no final period
	Help     string   // paragraphs; blank lines separate them
	Examples []string // whole command lines; "  # comment" may follow
	// Flags defines the leaf's flags on fs and returns the function that
	// runs it with their values. Nil for a group.
	Flags func(fs *flag.FlagSet) Run
	Subs  []*Command
	// Default names the subcommand a group runs when it is given only
	// flags or nothing ("sensors" lists).
	Default string
}

// UsageError is a mistake in how a command was called (exit 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Is makes every UsageError match ErrUsage.
func (e *UsageError) Is(target error) bool { return target == ErrUsage }

// ErrUsage matches any UsageError with errors.Is.
var ErrUsage = errors.New("usage error")

// Usagef returns a UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{fmt.Sprintf(format, args...)}
}

// ExitError carries an explicit exit code.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Sub returns the subcommand called name, or nil.
func (c *Command) Sub(name string) *Command {
	for _, s := range c.Subs {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func (c *Command) subNames() string {
	names := make([]string, len(c.Subs))
	for i, s := range c.Subs {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

func isHelp(a string) bool { return a == "-h" || a == "--help" || a == "-help" }

// Main runs the command line args (without the program name) against the
// tree under root and returns the exit code. Help (-h, --help, help
// COMMAND...) goes to stdout and exits 0; a usage mistake prints one line
// with a hint on stderr and exits 2.
func Main(ctx context.Context, root *Command, args []string, io IO) int {
	if len(args) > 0 && args[0] == "help" {
		return help(root, args[1:], io)
	}
	path := []*Command{root}
	for c := root; c.Flags == nil; c = path[len(path)-1] {
		switch {
		case len(args) > 0 && isHelp(args[0]):
			WriteHelp(io.Stdout, path)
			return ExitOK
		case len(args) > 0 && c.Sub(args[0]) != nil:
			path, args = append(path, c.Sub(args[0])), args[1:]
		case c.Default != "" && (len(args) == 0 || strings.HasPrefix(args[0], "-")):
			path = append(path, c.Sub(c.Default))
		case len(path) == 1 && len(args) == 0:
			WriteHelp(io.Stderr, path)
			return ExitUsage
		case len(args) == 0:
			return usage(io, path, fmt.Sprintf("needs a subcommand: %s", c.subNames()))
		default:
			return usage(io, path, fmt.Sprintf("unknown command %q (known: %s)", args[0], c.subNames()))
		}
	}
	err := Exec(ctx, path[len(path)-1], args, io)
	if errors.Is(err, flag.ErrHelp) {
		WriteHelp(io.Stdout, path)
		return ExitOK
	}
	return exitCode(io, path, err)
}

// Exec parses args with the flags of leaf c and runs it. It returns
// flag.ErrHelp when help was asked for, a *UsageError for a flag mistake,
// and otherwise what the command returns. Tests of a package's commands
// call it directly.
func Exec(ctx context.Context, c *Command, args []string, io IO) error {
	if c.Flags == nil {
		return fmt.Errorf("%s is a group of commands, not a command", c.Name)
	}
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(io2discard{})
	fs.Usage = func() {}
	run := c.Flags(fs)
	pos, err := ParseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return &UsageError{err.Error()}
	}
	return run(ctx, io, pos)
}

type io2discard struct{}

func (io2discard) Write(p []byte) (int, error) { return len(p), nil }

// help answers "help [COMMAND...]".
func help(root *Command, args []string, io IO) int {
	path := []*Command{root}
	for _, a := range args {
		s := path[len(path)-1].Sub(a)
		if s == nil {
			return usage(io, path, fmt.Sprintf("help: no command %q (known: %s)", a, path[len(path)-1].subNames()))
		}
		path = append(path, s)
	}
	WriteHelp(io.Stdout, path)
	return ExitOK
}

// usage prints the one-line usage mistake with its hint and returns 2.
func usage(io IO, path []*Command, msg string) int {
	fmt.Fprintf(io.Stderr, "%s: %s (see '%s -h')\n", Name(path), msg, Name(path))
	return ExitUsage
}

func exitCode(io IO, path []*Command, err error) int {
	if err == nil || errors.Is(err, context.Canceled) {
		return ExitOK
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		return usage(io, path, ue.Msg)
	}
	fmt.Fprintf(io.Stderr, "%s: %v\n", Name(path), err)
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitFailed
}

// Name is the command line that reaches the node: "medagent update install".
func Name(path []*Command) string {
	names := make([]string, len(path))
	for i, c := range path {
		names[i] = c.Name
	}
	return strings.Join(names, " ")
}

// ParseInterspersed parses flags that may stand before, between or after
// positional arguments ("install FILE --key K"); "--" ends the flags.
func ParseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// Walk calls fn for every node under root, parents first, with its path.
func Walk(root *Command, fn func(path []*Command)) {
	var walk func(path []*Command)
	walk = func(path []*Command) {
		fn(path)
		for _, s := range path[len(path)-1].Subs {
			walk(append(path[:len(path):len(path)], s))
		}
	}
	walk([]*Command{root})
}
