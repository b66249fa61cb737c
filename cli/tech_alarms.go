package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"medagent/control"
	"medagent/internal/cmdline"
)

func alarmsCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "alarms",
		Summary: "list or acknowledge the active alarms",
		Default: "list",
		Subs:    []*cmdline.Command{alarmsListCmd(), alarmsAckCmd()},
	}
}

func alarmsListCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:     "list",
		Summary:  "list the active alarms, highest priority first",
		Help:     "Lists the active alarms, highest priority first, with the ID to acknowledge.",
		Examples: []string{"medagent alarms", "medagent alarms list --json"},
		Flags: func(fs *flag.FlagSet) cmdline.Run {
			o := techFlags(fs)
			return func(ctx context.Context, e env, args []string) error {
				if len(args) != 0 {
					return usagef("takes no arguments")
				}
				return alarmsList(ctx, e, o)
			}
		},
	}
}

func alarmsList(ctx context.Context, e env, o *techOpts) error {
	var as []control.Alarm
	if err := o.call(ctx, control.Request{Cmd: control.CmdAlarms}, &as); err != nil {
		return err
	}
	if o.json {
		return printJSON(e.Stdout, as)
	}
	if len(as) == 0 {
		linef(e.Stdout, "no active alarms")
		return nil
	}
	linef(e.Stdout, "%-6s %-7s %-13s %-26s %s", "ID", "PRIO", "KIND", "WHAT", "STATE")
	now := time.Now()
	for _, a := range as {
		printAlarm(e.Stdout, a, now)
	}
	return nil
}

func printAlarm(w io.Writer, a control.Alarm, now time.Time) {
	what := a.Vital
	if what == "" {
		what = a.Source
	}
	what += " " + a.Condition
	if a.Kind == "physiological" {
		what += fmt.Sprintf(" %.4g/%.4g", a.Value, a.Limit)
	}
	state := "latched"
	if a.Present {
		state = "present"
	}
	if a.Acknowledged {
		state += ", acked"
	}
	linef(w, "%-6d %-7s %-13s %-26s %s, %s", a.ID, a.Priority, a.Kind, what, state, ago(now, a.Since))
}

func alarmsAckCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "ack",
		Args:    "ID",
		Summary: "acknowledge an active alarm",
		Help: `Acknowledges an active alarm (its audible signal stops; the alarm stays
until its condition ends). The acknowledgement is spooled like any alarm
transition.`,
		Examples: []string{"medagent alarms ack 3"},
		Flags: func(fs *flag.FlagSet) cmdline.Run {
			o := techFlags(fs)
			return func(ctx context.Context, e env, args []string) error {
				return alarmsAck(ctx, e, o, args)
			}
		},
	}
}

func alarmsAck(ctx context.Context, e env, o *techOpts, pos []string) error {
	if len(pos) != 1 {
		return usagef("needs exactly one alarm ID")
	}
	id, err := strconv.ParseUint(pos[0], 10, 64)
	if err != nil || id == 0 {
		return usagef("%q is not an alarm ID", pos[0])
	}
	if err := o.call(ctx, control.Request{Cmd: control.CmdAck, ID: id}, nil); err != nil {
		return err
	}
	if o.json {
		return printJSON(e.Stdout, struct {
			ID uint64 `json:"id"`
		}{id})
	}
	linef(e.Stdout, "alarm %d acknowledged", id)
	return nil
}
