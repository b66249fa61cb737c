package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"medagent/control"
	"medagent/internal/cmdline"
)

func sensorsCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "sensors",
		Summary: "list, read or watch the sensors of the running agent",
		Default: "list",
		Subs:    []*cmdline.Command{sensorsListCmd(), sensorsReadCmd(), sensorsWatchCmd()},
	}
}

func sensorsListCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "list",
		Summary: "list every configured sensor with its state and latest values",
		Help: `Lists every configured sensor with its state (ok, no_data, alarm,
starting, remote) and the derived values of its latest window.`,
		Examples: []string{"medagent sensors", "medagent sensors list --json"},
		Flags: func(fs *flag.FlagSet) cmdline.Run {
			o := techFlags(fs)
			return func(ctx context.Context, e env, args []string) error {
				if len(args) != 0 {
					return usagef("takes no arguments")
				}
				var ss []control.Sensor
				if err := o.call(ctx, control.Request{Cmd: control.CmdSensors}, &ss); err != nil {
					return err
				}
				if o.json {
					return printJSON(e.Stdout, ss)
				}
				printSensorTable(e, ss)
				return nil
			}
		},
	}
}

func printSensorTable(e env, ss []control.Sensor) {
	linef(e.Stdout, "  %-8s %-9s %8s  %-8s %s", "NAME", "DRIVER", "RATE", "STATE", "VALUES")
	for _, x := range ss {
		printSensor(e.Stdout, x)
	}
}

func sensorsReadCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:     "read",
		Args:     "NAME",
		Summary:  "print one sensor's latest window",
		Help:     "Prints one sensor's latest window: state, time and every derived value.",
		Examples: []string{"medagent sensors read ppg"},
		Flags: func(fs *flag.FlagSet) cmdline.Run {
			o := techFlags(fs)
			return func(ctx context.Context, e env, args []string) error {
				return sensorsRead(ctx, e, o, args)
			}
		},
	}
}

func sensorsRead(ctx context.Context, e env, o *techOpts, pos []string) error {
	if len(pos) != 1 {
		return usagef("needs exactly one sensor NAME")
	}
	var s control.Sensor
	if err := o.call(ctx, control.Request{Cmd: control.CmdSensor, Name: pos[0]}, &s); err != nil {
		return err
	}
	if o.json {
		return printJSON(e.Stdout, s)
	}
	linef(e.Stdout, "sensor   %s (%s, %g Hz)", s.Name, s.Driver, s.Rate)
	linef(e.Stdout, "state    %s", s.State)
	if !s.Updated.IsZero() {
		linef(e.Stdout, "window   %s", s.Updated.Format(time.RFC3339))
	}
	for _, v := range s.Values {
		val := "invalid"
		switch {
		case v.Value != nil:
			val = fmt.Sprintf("%.4g %s", *v.Value, v.Unit)
		case v.Text != "":
			val = v.Text
		}
		linef(e.Stdout, "  %-26s %s", v.Name, val)
	}
	return nil
}

func sensorsWatchCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "watch",
		Summary: "show live values until interrupted",
		Help: `Shows live values until interrupted. On a terminal the table is redrawn
in place; otherwise (a pipe, a file) one line per sensor and update is
printed, without colour or cursor control.`,
		Examples: []string{"medagent sensors watch", "medagent sensors watch --interval 5s --count 12 > vitals.txt"},
		Flags: func(fs *flag.FlagSet) cmdline.Run {
			o := techFlags(fs)
			interval := fs.Duration("interval", time.Second, "`TIME` between updates (at least 100ms)")
			count := fs.Int("count", 0, "stop after `N` updates (0: until interrupted)")
			return func(ctx context.Context, e env, args []string) error {
				if len(args) != 0 {
					return usagef("takes no arguments")
				}
				if *interval < 100*time.Millisecond || *count < 0 {
					return usagef("--interval must be at least 100ms and --count not negative")
				}
				return sensorsWatch(ctx, e, o, *interval, *count)
			}
		},
	}
}

func sensorsWatch(ctx context.Context, e env, o *techOpts, interval time.Duration, count int) error {
	tty := !o.json && isTerminal(e.Stdout)
	n := 0
	err := o.stream(ctx, control.Request{Cmd: control.CmdWatch, IntervalMS: interval.Milliseconds()}, func(data json.RawMessage) error {
		var ss []control.Sensor
		if err := json.Unmarshal(data, &ss); err != nil {
			return fmt.Errorf("sensors watch: %w", err)
		}
		switch {
		case o.json:
			if err := json.NewEncoder(e.Stdout).Encode(ss); err != nil {
				return err
			}
		case tty:
			fmt.Fprint(e.Stdout, "\x1b[H\x1b[2J")
			linef(e.Stdout, "medagent sensors  %s  (Ctrl-C to stop)", time.Now().Format(time.TimeOnly))
			printSensorTable(e, ss)
		default:
			now := time.Now().UTC().Format(time.RFC3339)
			for _, x := range ss {
				linef(e.Stdout, "%s %s %s %s", now, x.Name, x.State, valuesLine(x.Values))
			}
		}
		n++
		if count > 0 && n >= count {
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
