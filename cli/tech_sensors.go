package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"medagent/control"
)

func runSensors(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "read" && args[0] != "watch" && args[0] != "-h" && args[0] != "--help" && len(args[0]) > 0 && args[0][0] == '-') {
		return runSensorsList(ctx, e, args)
	}
	return sub(ctx, e, "sensors", args, map[string]func(context.Context, *env, []string) error{
		"list":  runSensorsList,
		"read":  runSensorsRead,
		"watch": runSensorsWatch,
	})
}

func runSensorsList(ctx context.Context, e *env, args []string) error {
	var o techOpts
	fs := techFlags(e, "sensors list", `sensors [list] [--json] [--socket PATH]

Lists every configured sensor with its state (ok, no_data, alarm,
starting, remote) and the derived values of its latest window.

Examples:
  medagent sensors
  medagent sensors list --json`, &o)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("sensors list takes no arguments")
	}
	var ss []control.Sensor
	if err := o.call(ctx, control.Request{Cmd: control.CmdSensors}, &ss); err != nil {
		return err
	}
	if o.json {
		return printJSON(e.stdout, ss)
	}
	printSensorTable(e, ss)
	return nil
}

func printSensorTable(e *env, ss []control.Sensor) {
	linef(e.stdout, "  %-8s %-9s %8s  %-8s %s", "NAME", "DRIVER", "RATE", "STATE", "VALUES")
	for _, x := range ss {
		printSensor(e.stdout, x)
	}
}

func runSensorsRead(ctx context.Context, e *env, args []string) error {
	var o techOpts
	fs := techFlags(e, "sensors read", `sensors read NAME [--json] [--socket PATH]

Prints one sensor's latest window: state, time and every derived value.

Example:
  medagent sensors read ppg`, &o)
	pos, err := parseMixed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("sensors read needs exactly one sensor NAME")
	}
	var s control.Sensor
	if err := o.call(ctx, control.Request{Cmd: control.CmdSensor, Name: pos[0]}, &s); err != nil {
		return err
	}
	if o.json {
		return printJSON(e.stdout, s)
	}
	linef(e.stdout, "sensor   %s (%s, %g Hz)", s.Name, s.Driver, s.Rate)
	linef(e.stdout, "state    %s", s.State)
	if !s.Updated.IsZero() {
		linef(e.stdout, "window   %s", s.Updated.Format(time.RFC3339))
	}
	for _, v := range s.Values {
		val := "invalid"
		switch {
		case v.Value != nil:
			val = fmt.Sprintf("%.4g %s", *v.Value, v.Unit)
		case v.Text != "":
			val = v.Text
		}
		linef(e.stdout, "  %-26s %s", v.Name, val)
	}
	return nil
}

func runSensorsWatch(ctx context.Context, e *env, args []string) error {
	var o techOpts
	fs := techFlags(e, "sensors watch", `sensors watch [--interval D] [--count N] [--json] [--socket PATH]

Shows live values until interrupted. On a terminal the table is redrawn
in place; otherwise (a pipe, a file) one line per sensor and update is
printed, without colour or cursor control.

Examples:
  medagent sensors watch
  medagent sensors watch --interval 5s --count 12 > vitals.txt`, &o)
	interval := fs.Duration("interval", time.Second, "time between updates (at least 100ms)")
	count := fs.Int("count", 0, "stop after N updates (0: until interrupted)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("sensors watch takes no arguments")
	}
	if *interval < 100*time.Millisecond || *count < 0 {
		return usagef("sensors watch: --interval must be at least 100ms and --count not negative")
	}
	tty := !o.json && isTerminal(e.stdout)
	n := 0
	err := o.stream(ctx, control.Request{Cmd: control.CmdWatch, IntervalMS: interval.Milliseconds()}, func(data json.RawMessage) error {
		var ss []control.Sensor
		if err := json.Unmarshal(data, &ss); err != nil {
			return fmt.Errorf("sensors watch: %w", err)
		}
		switch {
		case o.json:
			if err := json.NewEncoder(e.stdout).Encode(ss); err != nil {
				return err
			}
		case tty:
			fmt.Fprint(e.stdout, "\x1b[H\x1b[2J")
			linef(e.stdout, "medagent sensors  %s  (Ctrl-C to stop)", time.Now().Format(time.TimeOnly))
			printSensorTable(e, ss)
		default:
			now := time.Now().UTC().Format(time.RFC3339)
			for _, x := range ss {
				linef(e.stdout, "%s %s %s %s", now, x.Name, x.State, valuesLine(x.Values))
			}
		}
		n++
		if *count > 0 && n >= *count {
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// errStop ends a stream early without an error.
var errStop = errors.New("stop")
