package cli

import (
	"context"
	"fmt"

	"medagent/version"
)

func runVersion(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "version")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, version.String())
	return nil
}
