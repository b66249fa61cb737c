package cli

import (
	"context"
	"flag"
	"fmt"

	"medagent/config"
	"medagent/internal/cmdline"
)

func configCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "config",
		Summary: "check a configuration file",
		Subs: []*cmdline.Command{{
			Name:    "check",
			Args:    "FILE",
			Summary: "check a configuration file as the agent would load it",
			Help: `Decodes FILE strictly: an unknown key, a wrong type or an out-of-range
value is reported as FILE:LINE: KEY: problem, and the command exits 1.
Every key and its default is documented in medagent.example.yaml.`,
			Examples: []string{"medagent config check /etc/medagent/medagent.yaml"},
			Flags: func(fs *flag.FlagSet) cmdline.Run {
				return func(ctx context.Context, e env, args []string) error {
					if len(args) != 1 {
						return usagef("needs exactly one FILE")
					}
					if _, err := config.Load(args[0]); err != nil {
						return err
					}
					_, err := fmt.Fprintf(e.Stdout, "%s: ok\n", args[0])
					return err
				}
			},
		}},
	}
}
