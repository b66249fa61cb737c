package cli

import (
	"context"
	"flag"
	"fmt"

	"medagent/internal/cmdline"
	"medagent/version"
)

func versionCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:     "version",
		Summary:  "print version, commit, Go version and platform",
		Examples: []string{"medagent version"},
		Flags: func(fs *flag.FlagSet) cmdline.Run {
			return func(ctx context.Context, e env, args []string) error {
				if len(args) != 0 {
					return usagef("takes no arguments")
				}
				_, err := fmt.Fprintln(e.Stdout, version.String())
				return err
			}
		},
	}
}
