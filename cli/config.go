package cli

import (
	"context"
	"fmt"

	"medagent/config"
)

func runConfig(ctx context.Context, e *env, args []string) error {
	return sub(ctx, e, "config", args, map[string]func(context.Context, *env, []string) error{
		"check": runConfigCheck,
	})
}

func runConfigCheck(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "config check", "config check FILE\n\nExample:\n  medagent config check /etc/medagent/medagent.yaml")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("config check needs exactly one FILE")
	}
	if _, err := config.Load(fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: ok\n", fs.Arg(0))
	return nil
}
