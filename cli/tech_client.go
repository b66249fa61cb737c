package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"medagent/control"
)

// techOpts are the flags every technician command takes.
type techOpts struct {
	socket string
	json   bool
}

// techFlags defines --socket and --json, the flags of every technician
// command.
func techFlags(fs *flag.FlagSet) *techOpts {
	o := &techOpts{}
	fs.StringVar(&o.socket, "socket", "", "the agent's control socket `PATH` (empty: $"+control.SocketEnv+", else "+control.DefaultSocket+")")
	fs.BoolVar(&o.json, "json", false, "print JSON (schema: the types of package control)")
	return o
}

// call asks the agent and maps its failures to the CLI's exit codes: not
// running or refusing this user is 3, a failed command 1.
func (o *techOpts) call(ctx context.Context, req control.Request, out any) error {
	return techErr(control.Call(ctx, control.SocketPath(o.socket), req, out))
}

func (o *techOpts) stream(ctx context.Context, req control.Request, fn func(json.RawMessage) error) error {
	return techErr(control.Stream(ctx, control.SocketPath(o.socket), req, fn))
}

func techErr(err error) error {
	if err == nil {
		return nil
	}
	var re *control.RemoteError
	switch {
	case errors.Is(err, control.ErrNotRunning):
		return &exitError{Code: ExitNotRunning, Err: err}
	case errors.As(err, &re) && re.Refused():
		return &exitError{Code: ExitNotRunning, Err: err}
	case errors.As(err, &re) && re.Code == control.CodeBadRequest:
		return &usageError{Msg: err.Error()}
	case strings.Contains(err.Error(), "permission denied"):
		return &exitError{Code: ExitNotRunning, Err: err}
	}
	return err
}

// printJSON writes v indented, the --json output of every command.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// isTerminal reports whether w is a terminal (then output may redraw).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// width is the width human output fits in.
const width = 80

// fit lays s out in the output width without ever cutting a word (an
// identifier, a path, a URL): a long line breaks at spaces and its
// continuation lines start under the value column (after the first run of
// two or more spaces), or under the start of the line when that is far
// right. A single word wider than the line stays whole.
func fit(s string) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	indent := 0
	if i := strings.Index(strings.TrimLeft(s, " "), "  "); i >= 0 {
		lead := len(s) - len(strings.TrimLeft(s, " "))
		indent = lead + i + len(s[lead+i:]) - len(strings.TrimLeft(s[lead+i:], " "))
	}
	if indent > width/2 {
		indent = 2
	}
	pad := strings.Repeat(" ", indent)
	var b strings.Builder
	line := ""
	for _, w := range strings.SplitAfter(s, " ") {
		if line != "" && strings.TrimSpace(line) != "" && utf8.RuneCountInString(strings.TrimRight(line+w, " ")) > width {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line = pad
			w = strings.TrimLeft(w, " ")
		}
		line += w
	}
	b.WriteString(strings.TrimRight(line, " "))
	return b.String()
}

// linef prints one line laid out by fit.
func linef(w io.Writer, format string, args ...any) {
	fmt.Fprintln(w, fit(fmt.Sprintf(format, args...)))
}

// ago prints how long before now t was, in whole seconds or larger units.
func ago(now, t time.Time) string {
	return dur(now.Sub(t))
}

func dur(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return d.Round(time.Second).String()
}

// bytesize prints n bytes in binary units.
func bytesize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, u := float64(n)/unit, 0
	for f >= unit && u < 3 {
		f /= unit
		u++
	}
	return fmt.Sprintf("%.1f %ciB", f, "KMGT"[u])
}

// shortNames are the bedside names of the derived values.
var shortNames = map[string]string{
	"MDC_ECG_HEART_RATE":      "HR",
	"MDC_PULS_OXIM_SAT_O2":    "SpO2",
	"MDC_PULS_OXIM_PULS_RATE": "PR",
	"MDC_PULS_OXIM_PERF_REL":  "PI",
	"MDC_TEMP_BODY":           "Temp",
}

// valuesLine prints a sensor's values as "HR 72 1/min, SpO2 97 %".
func valuesLine(vs []control.Value) string {
	var parts []string
	for _, v := range vs {
		name := shortNames[v.Name]
		if name == "" {
			name = strings.TrimPrefix(v.Name, "MDC_")
		}
		switch {
		case v.Value != nil:
			parts = append(parts, strings.TrimSpace(fmt.Sprintf("%s %.4g %s", name, *v.Value, v.Unit)))
		case v.Text != "":
			parts = append(parts, name+" "+v.Text)
		default:
			parts = append(parts, name+" --")
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}
