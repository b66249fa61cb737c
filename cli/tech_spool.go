package cli

import (
	"context"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"medagent/control"
)

// spoolClasses is the order classes are printed in (as spool stats does).
var spoolClasses = []string{"telemetry", "events", "alarms"}

// runSpoolTech serves `spool stats`: offline with --dir (spool.Command),
// through the running agent without it.
func runSpoolTech(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "stats" || hasDirFlag(args[1:]) {
		return runSpool(ctx, e, stripSocket(args)) // offline: no socket
	}
	var o techOpts
	fs := techFlags(e, "spool stats", `spool stats [--json] [--socket PATH] | spool stats --dir DIR [--json]

Without --dir, asks the running agent (exit 3 if it is not running; then
give --dir to scan the spool directory offline).

Examples:
  medagent spool stats
  medagent spool stats --dir /var/lib/medagent/spool --json`, &o)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("spool stats takes no arguments")
	}
	var s control.SpoolStats
	if err := o.call(ctx, control.Request{Cmd: control.CmdSpool}, &s); err != nil {
		return err
	}
	if o.json {
		return printJSON(e.stdout, s)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
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
	linef(e.stdout, "disk bytes %d, encrypted %t, corrupt frames skipped %d, damaged spans %d, torn tails %d",
		s.DiskBytes, s.Encrypted, s.CorruptFrames, s.DamagedSpans, s.TornTails)
	return nil
}

func hasDirFlag(args []string) bool {
	for _, a := range args {
		if a == "-dir" || a == "--dir" || len(a) > 5 && (a[:5] == "-dir=" || a[:6] == "--dir=") {
			return true
		}
	}
	return false
}
