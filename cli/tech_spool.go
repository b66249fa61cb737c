package cli

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"medagent/control"
	"medagent/internal/cmdline"
	"medagent/spool"
)

// spoolClasses is the order classes are printed in (as spool stats does).
var spoolClasses = []string{"telemetry", "events", "alarms"}

func spoolCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "spool",
		Summary: "show spool statistics (through the agent, or offline with --dir)",
		Subs: []*cmdline.Command{{
			Name:    "stats",
			Summary: "per-class pending records and bytes, oldest pending, evictions and damage",
			Help: `Without --dir, asks the running agent (exit 3 if it is not running). With
--dir, scans the spool directory offline: no key and no lock are needed,
so it works beside a running agent and its numbers are then a snapshot;
stream names of an encrypted spool are not shown.`,
			Examples: []string{
				"medagent spool stats",
				"medagent spool stats --dir /var/lib/medagent/spool --json",
			},
			Flags: func(fs *flag.FlagSet) cmdline.Run {
				o := techFlags(fs)
				dir := fs.String("dir", "", "scan this spool `DIR` offline (spool.dir in the configuration) instead of asking the agent")
				return func(ctx context.Context, e env, args []string) error {
					if len(args) != 0 {
						return usagef("takes no arguments")
					}
					if *dir != "" {
						return spool.WriteStats(ctx, e.Stdout, *dir, o.json)
					}
					return spoolStats(ctx, e, o)
				}
			},
		}},
	}
}

func spoolStats(ctx context.Context, e env, o *techOpts) error {
	var s control.SpoolStats
	if err := o.call(ctx, control.Request{Cmd: control.CmdSpool}, &s); err != nil {
		return err
	}
	if o.json {
		return printJSON(e.Stdout, s)
	}
	tw := tabwriter.NewWriter(e.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "class\tpending\tbytes\toldest pending\tevicted\tsegs\tdisk")
	names := append([]string(nil), spoolClasses...)
	for n := range s.Classes {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, n := range names {
		c, ok := s.Classes[n]
		if !ok {
			continue
		}
		oldest := "-"
		if c.Oldest != nil {
			oldest = c.Oldest.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%d\t%d\n", n, c.Pending, c.PendingBytes, oldest, c.Evicted, c.Segments, c.Bytes)
	}
	tw.Flush()
	linef(e.Stdout, "disk bytes %d, encrypted %t, corrupt frames skipped %d, damaged spans %d, torn tails %d",
		s.DiskBytes, s.Encrypted, s.CorruptFrames, s.DamagedSpans, s.TornTails)
	return nil
}
