package cli

import (
	"context"
	"errors"
	"strings"

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
			for i, l := range wrap(c.Detail, width-20) {
				if i == 0 {
					linef(e.stdout, "%s  %-12s  %s", verdict, c.Name, l)
				} else {
					linef(e.stdout, "%20s%s", "", l)
				}
			}
		}
	}
	if !t.OK {
		return &exitError{ExitFailed, errors.New("selftest failed")}
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
