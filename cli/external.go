package cli

import (
	"context"
	"errors"
	"flag"
	"io"

	"medagent/edge/replay"
	"medagent/spool"
	"medagent/trust/provision"
	"medagent/update/artifact"
	"medagent/update/engine"
)

// extCommand is the shape of a command that lives in its own package.
type extCommand func(ctx context.Context, stdout, stderr io.Writer, args []string) error

// external adapts a package's command to the CLI's exit codes: a bare
// flag.ErrHelp is a request for help (exit 0); an error wrapping it, or a
// package's own usage sentinel, is a usage error (exit 2).
func external(f extCommand, usageErrs ...error) func(context.Context, *env, []string) error {
	return func(ctx context.Context, e *env, args []string) error {
		err := f(ctx, e.stdout, e.stderr, args)
		if err == nil || err == flag.ErrHelp {
			return err
		}
		if errors.Is(err, flag.ErrHelp) {
			return &usageError{err.Error()}
		}
		for _, u := range usageErrs {
			if errors.Is(err, u) {
				return &usageError{err.Error()}
			}
		}
		return err
	}
}

func runReplay(ctx context.Context, e *env, args []string) error {
	return external(replay.Command, replay.ErrUsage)(ctx, e, args)
}

func runUpdate(ctx context.Context, e *env, args []string) error {
	return external(engine.Command)(ctx, e, args)
}

func runSpool(ctx context.Context, e *env, args []string) error {
	return external(spool.Command)(ctx, e, args)
}

func runProvision(ctx context.Context, e *env, args []string) error {
	return external(provision.Command)(ctx, e, args)
}

func runArtifact(ctx context.Context, e *env, args []string) error {
	return sub(ctx, e, "artifact", args, map[string]func(context.Context, *env, []string) error{
		"inspect": external(artifact.InspectCommand),
		"verify":  external(artifact.VerifyCommand),
	})
}
