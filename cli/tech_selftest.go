package cli

import (
	"context"
	"errors"
	"flag"
	"strings"

	"medagent/control"
	"medagent/internal/cmdline"
)

func selftestCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "selftest",
		Summary: "probe every sensor, the spool and the broker",
		Help: `Probes every configured sensor, the spool and the broker through the
running agent and prints PASS or FAIL for each. Exits 1 if any check
fails, 3 if the agent is not running.`,
		Examples: []string{"medagent selftest"},
		Flags: func(fs *flag.FlagSet) cmdline.Run {
			o := techFlags(fs)
			return func(ctx context.Context, e env, args []string) error {
				if len(args) != 0 {
					return usagef("takes no arguments")
				}
				return selftest(ctx, e, o)
			}
		},
	}
}

func selftest(ctx context.Context, e env, o *techOpts) error {
	var t control.Selftest
	if err := o.call(ctx, control.Request{Cmd: control.CmdSelftest}, &t); err != nil {
		return err
	}
	if o.json {
		if err := printJSON(e.Stdout, t); err != nil {
			return err
		}
	} else {
		for _, c := range t.Checks {
			verdict := "PASS"
			if !c.OK {
				verdict = "FAIL"
			}
			for i, l := range wrap(c.Detail, width-20) {
				if i == 0 {
					linef(e.Stdout, "%s  %-12s  %s", verdict, c.Name, l)
				} else {
					linef(e.Stdout, "%20s%s", "", l)
				}
			}
		}
	}
	if !t.OK {
		return &exitError{Code: ExitFailed, Err: errors.New("selftest failed")}
	}
	return nil
}

// wrap breaks text into lines of at most n runes, at spaces when it can.
func wrap(text string, n int) []string {
	var out []string
	for r := []rune(text); ; {
		if len(r) <= n {
			return append(out, string(r))
		}
		cut := n
		for i := n; i > n/2; i-- {
			if r[i] == ' ' {
				cut = i
				break
			}
		}
		out = append(out, string(r[:cut]))
		r = []rune(strings.TrimLeft(string(r[cut:]), " "))
	}
}
