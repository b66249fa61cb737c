package cli

import (
	"context"
	"errors"

	"medagent/control"
)

func runSelftest(ctx context.Context, e *env, args []string) error {
	var o techOpts
	fs := techFlags(e, "selftest", `selftest [--json] [--socket PATH]

Probes every configured sensor, the spool and the broker through the
running agent and prints PASS or FAIL for each. Exits 1 if any check
fails, 3 if the agent is not running.

Example:
  medagent selftest`, &o)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("selftest takes no arguments")
	}
	var t control.Selftest
	if err := o.call(ctx, control.Request{Cmd: control.CmdSelftest}, &t); err != nil {
		return err
	}
	if o.json {
		if err := printJSON(e.stdout, t); err != nil {
			return err
		}
	} else {
		for _, c := range t.Checks {
			verdict := "PASS"
			if !c.OK {
				verdict = "FAIL"
			}
			linef(e.stdout, "%s  %-12s %s", verdict, c.Name, c.Detail)
		}
	}
	if !t.OK {
		return &exitError{ExitFailed, errors.New("selftest failed")}
	}
	return nil
}
