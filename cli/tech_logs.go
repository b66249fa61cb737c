package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"medagent/control"
	"medagent/internal/authfile"
	"medagent/internal/cmdline"
	"medagent/trust/audit"
	"medagent/trust/datakey"
)

func logsCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "logs",
		Summary: "print the agent's recent logs (-f to follow)",
		Help: `Prints the agent's recent log records from its in-memory ring (no
patient data is ever logged). -f keeps printing new records until
interrupted.

--audit prints the security audit trail instead (installs, keyring
changes, commands, technician actions), after checking all of it: an
edited, deleted or cut-off entry is named and the command exits 1. Without
a running agent, --audit-dir reads the trail's files directly (root, or
the acquire user: it needs the state key).`,
		Examples: []string{"medagent logs --since 10m", "medagent logs -f", "medagent logs --audit"},
		Flags: func(fs *flag.FlagSet) cmdline.Run {
			o := techFlags(fs)
			follow := fs.Bool("f", false, "follow: keep printing new records")
			since := fs.Duration("since", 0, "only records newer than `DURATION` (e.g. 10m; 0: all kept)")
			aud := fs.Bool("audit", false, "print the checked security audit trail")
			dir := fs.String("audit-dir", "", "with --audit: read the trail in `DIR` directly instead of asking the agent")
			key := fs.String("state-key", "", "with --audit-dir: the state key `FILE` (empty: state.key in DIR)")
			tpm := fs.String("tpm", "", "with --audit-dir: the TPM `DEVICE` that seals the state key (empty: /dev/tpmrm0 when present; off: none)")
			return func(ctx context.Context, e env, args []string) error {
				if len(args) != 0 {
					return usagef("takes no arguments")
				}
				if *since < 0 {
					return usagef("--since must not be negative")
				}
				if *aud || *dir != "" {
					if *follow || *since != 0 {
						return usagef("--audit takes neither -f nor --since")
					}
					return auditLog(ctx, e, o, *dir, *key, *tpm)
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
	fmt.Fprintf(&b, "%s %-5s %s", r.Time.Format(time.RFC3339), r.Level, audit.Sanitize(r.Msg))
	writeAttrs(&b, keys, r.Attrs)
	_, err := fmt.Fprintln(w, b.String())
	return err
}

// writeAttrs appends " k=v" pairs; values that need it are quoted, and no
// raw control character from the outside reaches the terminal.
func writeAttrs(b *strings.Builder, keys []string, attrs map[string]string) {
	for _, k := range keys {
		v := attrs[k]
		if strings.ContainsAny(v, " \t\"=") || v == "" || audit.Sanitize(v) != v {
			v = strconv.QuoteToGraphic(v)
		}
		fmt.Fprintf(b, " %s=%s", audit.Sanitize(k), v)
	}
}

// auditLog prints the audit trail, from the agent or (dir) the files.
func auditLog(ctx context.Context, e env, o *techOpts, dir, keyFile, tpm string) error {
	var a control.Audit
	if dir != "" {
		if keyFile == "" {
			keyFile = filepath.Join(dir, "state.key")
		}
		if _, err := os.Stat(keyFile); err != nil {
			return fmt.Errorf("logs --audit: the state key: %w", err)
		}
		k, err := datakey.Load(datakey.Options{TPM: tpm, File: keyFile, Private: true})
		if err != nil {
			return fmt.Errorf("logs --audit: %w", err)
		}
		r := audit.Verify(dir, authfile.DeriveKey(k, "audit log"))
		a = control.Audit{Intact: r.OK(), First: r.First, Last: r.Last, Entries: []control.AuditEntry{}}
		for _, p := range r.Problems {
			a.Problems = append(a.Problems, p.String())
		}
		for _, x := range r.Entries {
			a.Entries = append(a.Entries, control.AuditEntry{Seq: x.Seq, Time: x.Time, Kind: x.Kind, Fields: x.Fields})
		}
	} else if err := o.call(ctx, control.Request{Cmd: control.CmdAudit}, &a); err != nil {
		return err
	}
	if o.json {
		if err := printJSON(e.Stdout, a); err != nil {
			return err
		}
	} else {
		w := e.Stdout
		if a.Intact {
			fmt.Fprintf(w, "audit trail intact: entries %d..%d\n", a.First, a.Last)
		} else {
			fmt.Fprintf(w, "audit trail BROKEN: %d problem(s)\n", len(a.Problems))
			for _, p := range a.Problems {
				fmt.Fprintf(w, "  %s\n", audit.Sanitize(p))
			}
		}
		for _, x := range a.Entries {
			var b strings.Builder
			fmt.Fprintf(&b, "%s #%d %s", x.Time.Format(time.RFC3339), x.Seq, audit.Sanitize(x.Kind))
			keys := make([]string, 0, len(x.Fields))
			for k := range x.Fields {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			writeAttrs(&b, keys, x.Fields)
			fmt.Fprintln(w, b.String())
		}
	}
	if !a.Intact {
		return fmt.Errorf("logs --audit: the audit trail failed its check (%d problems)", len(a.Problems))
	}
	return nil
}
