package cli

import (
	"context"
	"fmt"
	"io"

	"medagent/internal/cmdline"
)

// Exit codes (see package cmdline).
const (
	ExitOK         = cmdline.ExitOK
	ExitFailed     = cmdline.ExitFailed
	ExitUsage      = cmdline.ExitUsage
	ExitNotRunning = cmdline.ExitNotRunning
)

// env is where every command writes.
type env = cmdline.IO

func usagef(format string, args ...any) error { return cmdline.Usagef(format, args...) }

type (
	usageError = cmdline.UsageError
	exitError  = cmdline.ExitError
)

// Root is the whole command tree: what -h, help, the manual page and the
// README's command list are made from.
func Root() *cmdline.Command {
	return &cmdline.Command{
		Name:    "medagent",
		Summary: "the device agent of a bedside medical device",
		Help: `medagent reads the patient's sensors, derives vitals and alarms at the
edge, keeps every reading in a crash-safe, bounded, encrypted spool and
publishes it over mutual-TLS MQTT as SenML named by IEEE 11073 terms. It
applies signed A/B system updates with trial boot and rollback.

The technician commands (status, sensors, alarms, certs, logs, diag,
selftest, and update or spool stats without offline flags) talk to the
running agent over its Unix socket; the others work on files.`,
		Subs: []*cmdline.Command{
			runCmd(), versionCmd(), configCmd(), replayCmd(), artifactCmd(), updateCmd(),
			spoolCmd(), statusCmd(), sensorsCmd(), alarmsCmd(), certsCmd(), logsCmd(),
			diagCmd(), selftestCmd(), provisionCmd(),
		},
	}
}

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := env{Stdout: stdout, Stderr: stderr}
	if len(args) == 2 && args[0] == "help" && args[1] == "--man" {
		if err := cmdline.WriteMan(stdout, Root(), manPage()); err != nil {
			fmt.Fprintf(stderr, "medagent help: %v\n", err)
			return ExitFailed
		}
		return ExitOK
	}
	return cmdline.Main(ctx, Root(), args, e)
}
