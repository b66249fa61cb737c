package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"medagent/control"
)

func runAlarms(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "list" || (len(args[0]) > 0 && args[0][0] == '-' && args[0] != "-h" && args[0] != "--help") {
		if len(args) > 0 && args[0] == "list" {
			args = args[1:]
		}
		return runAlarmsList(ctx, e, args)
	}
	return sub(ctx, e, "alarms", args, map[string]func(context.Context, *env, []string) error{
		"list": runAlarmsList,
		"ack":  runAlarmsAck,
	})
}

func runAlarmsList(ctx context.Context, e *env, args []string) error {
	var o techOpts
	fs := techFlags(e, "alarms list", `alarms [list] [--json] [--socket PATH]

Lists the active alarms, highest priority first, with the id to ack.

Examples:
  medagent alarms
  medagent alarms list --json`, &o)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("alarms list takes no arguments")
	}
	var as []control.Alarm
	if err := o.call(ctx, control.Request{Cmd: control.CmdAlarms}, &as); err != nil {
		return err
	}
	if o.json {
		return printJSON(e.stdout, as)
	}
	if len(as) == 0 {
		linef(e.stdout, "no active alarms")
		return nil
	}
	linef(e.stdout, "%-6s %-7s %-13s %-26s %s", "ID", "PRIO", "KIND", "WHAT", "STATE")
	now := time.Now()
	for _, a := range as {
		printAlarm(e.stdout, a, now)
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

func runAlarmsAck(ctx context.Context, e *env, args []string) error {
	var o techOpts
	fs := techFlags(e, "alarms ack", `alarms ack ID [--socket PATH]

Acknowledges an active alarm (its audible signal stops; the alarm stays
until its condition ends). The acknowledgement is spooled like any alarm
transition.

Example:
  medagent alarms ack 3`, &o)
	pos, err := parseMixed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("alarms ack needs exactly one alarm ID")
	}
	id, err := strconv.ParseUint(pos[0], 10, 64)
	if err != nil || id == 0 {
		return usagef("alarms ack: %q is not an alarm ID", pos[0])
	}
	if err := o.call(ctx, control.Request{Cmd: control.CmdAck, ID: id}, nil); err != nil {
		return err
	}
	if o.json {
		return printJSON(e.stdout, struct {
			ID uint64 `json:"id"`
		}{id})
	}
	linef(e.stdout, "alarm %d acknowledged", id)
	return nil
}
