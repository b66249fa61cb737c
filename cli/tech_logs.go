package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"medagent/control"
)

func runLogs(ctx context.Context, e *env, args []string) error {
	var o techOpts
	fs := techFlags(e, "logs", `logs [-f] [--since DURATION] [--json] [--socket PATH]

Prints the agent's recent log records from its in-memory ring (no
patient data is ever logged). -f keeps printing new records until
interrupted.

Examples:
  medagent logs --since 10m
  medagent logs -f`, &o)
	follow := fs.Bool("f", false, "follow: keep printing new records")
	since := fs.Duration("since", 0, "only records newer than `DURATION` (e.g. 10m; 0: all kept)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("logs takes no arguments")
	}
	if *since < 0 {
		return usagef("logs: --since must not be negative")
	}
	req := control.Request{Cmd: control.CmdLogs, SinceMS: since.Milliseconds(), Follow: *follow}
	if *follow {
		return o.stream(ctx, req, func(data json.RawMessage) error {
			var r control.LogRecord
			if err := json.Unmarshal(data, &r); err != nil {
				return fmt.Errorf("logs: %w", err)
			}
			return printLog(e.stdout, r, o.json)
		})
	}
	var rs []control.LogRecord
	if err := o.call(ctx, req, &rs); err != nil {
		return err
	}
	if o.json {
		return printJSON(e.stdout, rs)
	}
	for _, r := range rs {
		if err := printLog(e.stdout, r, false); err != nil {
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
