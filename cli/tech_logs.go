package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"medagent/control"
	"medagent/internal/cmdline"
)

func logsCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "logs",
		Summary: "print the agent's recent logs (-f to follow)",
		Help: `Prints the agent's recent log records from its in-memory ring (no
patient data is ever logged). -f keeps printing new records until
interrupted.`,
		Examples: []string{"medagent logs --since 10m", "medagent logs -f"},
		Flags: func(fs *flag.FlagSet) cmdline.Run {
			o := techFlags(fs)
			follow := fs.Bool("f", false, "follow: keep printing new records")
			since := fs.Duration("since", 0, "only records newer than `DURATION` (e.g. 10m; 0: all kept)")
			return func(ctx context.Context, e env, args []string) error {
				if len(args) != 0 {
					return usagef("takes no arguments")
				}
				if *since < 0 {
					return usagef("--since must not be negative")
				}
				return logs(ctx, e, o, *follow, *since)
			}
		},
	}
}

func logs(ctx context.Context, e env, o *techOpts, follow bool, since time.Duration) error {
	req := control.Request{Cmd: control.CmdLogs, SinceMS: since.Milliseconds(), Follow: follow}
	if follow {
		return o.stream(ctx, req, func(data json.RawMessage) error {
			var r control.LogRecord
			if err := json.Unmarshal(data, &r); err != nil {
				return fmt.Errorf("logs: %w", err)
			}
			return printLog(e.Stdout, r, o.json)
		})
	}
	var rs []control.LogRecord
	if err := o.call(ctx, req, &rs); err != nil {
		return err
	}
	if o.json {
		return printJSON(e.Stdout, rs)
	}
	for _, r := range rs {
		if err := printLog(e.Stdout, r, false); err != nil {
			return err
		}
	}
	return nil
}

// printLog prints one record as a line (logs are not cut to 80 columns:
// a technician pipes them to a file or a pager).
func printLog(w io.Writer, r control.LogRecord, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(r)
	}
	keys := make([]string, 0, len(r.Attrs))
	for k := range r.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %-5s %s", r.Time.Format(time.RFC3339), r.Level, r.Msg)
	for _, k := range keys {
		v := r.Attrs[k]
		if strings.ContainsAny(v, " \t\"=") || v == "" {
			v = fmt.Sprintf("%q", v)
		}
		fmt.Fprintf(&b, " %s=%s", k, v)
	}
	_, err := fmt.Fprintln(w, b.String())
	return err
}
