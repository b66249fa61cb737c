package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"medagent/control"
	"medagent/internal/cmdline"
	"medagent/internal/durable"
	"medagent/version"
)

func diagCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "diag",
		Summary: "write a diagnostic bundle for the service desk",
		Subs: []*cmdline.Command{{
			Name:    "bundle",
			Usage:   "-o FILE [--socket PATH] [--json]",
			Summary: "write a tar.gz of versions, redacted configuration, logs and checks",
			Help: `Writes a tar.gz for the service desk: versions, the configuration with
secrets redacted (key file paths, never key contents), recent logs, spool
statistics, certificates (public parts), the selftest and the boot
environment (when a fw_env.config exists). It holds no patient data and
no keys: a bundle that would hold a private key is refused.`,
			Examples: []string{"medagent diag bundle -o /tmp/diag-$(hostname).tar.gz"},
			Flags: func(fs *flag.FlagSet) cmdline.Run {
				o := techFlags(fs)
				out := fs.String("o", "", "output `FILE` (required)")
				return func(ctx context.Context, e env, args []string) error {
					if *out == "" || len(args) != 0 {
						return usagef("needs -o FILE and no arguments")
					}
					return diagBundle(ctx, e, o, *out)
				}
			},
		}},
	}
}

func diagBundle(ctx context.Context, e env, o *techOpts, out string) error {
	files, err := gatherDiag(ctx, o)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := control.WriteBundle(&buf, time.Now(), files); err != nil {
		return err
	}
	if err := writeFileDurable(out, buf.Bytes()); err != nil {
		return err
	}
	if !o.json {
		linef(e.Stdout, "wrote %s (%s, %d files)", out, bytesize(int64(buf.Len())), len(files))
	}
	return nil
}

// gatherDiag asks the agent for every part of a bundle.
func gatherDiag(ctx context.Context, o *techOpts) ([]control.BundleFile, error) {
	var st control.Status
	if err := o.call(ctx, control.Request{Cmd: control.CmdStatus}, &st); err != nil {
		return nil, err
	}
	var files []control.BundleFile
	addJSON := func(name string, v any) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("diag: %s: %w", name, err)
		}
		files = append(files, control.BundleFile{Name: name, Data: append(b, '\n')})
		return nil
	}
	ver := fmt.Sprintf("cli:   %s\nagent: medagent %s (commit %s)\nkernel: %s\n", version.String(), st.Version, st.Commit, kernel())
	files = append(files, control.BundleFile{Name: "version.txt", Data: []byte(ver)})
	// No patient data: the bundle keeps each sensor's state, not its values,
	// and the number of active alarms, not what they measured.
	for i := range st.Sensors {
		st.Sensors[i].Values = []control.Value{}
	}
	files = append(files, control.BundleFile{Name: "alarms.txt", Data: fmt.Appendf(nil, "%d active alarms (values withheld)\n", len(st.Alarms))})
	st.Alarms = []control.Alarm{}
	if err := addJSON("status.json", st); err != nil {
		return nil, err
	}
	var d control.Diag
	if err := o.call(ctx, control.Request{Cmd: control.CmdDiag}, &d); err != nil {
		return nil, err
	}
	files = append(files, control.BundleFile{Name: "config.yaml", Data: []byte(d.ConfigYAML)})
	var env strings.Builder
	if d.BootNote != "" {
		fmt.Fprintf(&env, "# %s\n", d.BootNote)
	}
	keys := make([]string, 0, len(d.BootEnv))
	for k := range d.BootEnv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&env, "%s=%s\n", k, d.BootEnv[k])
	}
	files = append(files, control.BundleFile{Name: "bootenv.txt", Data: []byte(env.String())})
	parts := []struct {
		name string
		req  control.Request
		v    any
	}{
		{"logs.json", control.Request{Cmd: control.CmdLogs}, &[]control.LogRecord{}},
		{"spool.json", control.Request{Cmd: control.CmdSpool}, &control.SpoolStats{}},
		{"certs.json", control.Request{Cmd: control.CmdCerts}, &control.Certs{}},
		{"selftest.json", control.Request{Cmd: control.CmdSelftest}, &control.Selftest{}},
	}
	for _, p := range parts {
		if err := o.call(ctx, p.req, p.v); err != nil {
			return nil, err
		}
		if err := addJSON(p.name, p.v); err != nil {
			return nil, err
		}
	}
	return files, nil
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return runtime.GOOS
	}
	return strings.TrimSpace(string(b))
}

// writeFileDurable writes the bundle durably (internal/durable).
func writeFileDurable(path string, b []byte) error {
	if err := durable.WriteFile(path, b, 0o640); err != nil {
		return fmt.Errorf("diag: %w", err)
	}
	return nil
}
