package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"medagent/acquire/simbench"
	"medagent/agent"
	"medagent/config"
	"medagent/control"
	"medagent/tlsconf/tlstest"
)

var update = flag.Bool("update", false, "rewrite the golden files of cli/testdata")

// techAgent is an agent running in the test process on simulated sensors,
// with an unreachable broker.
type techAgent struct {
	dir, socket, spoolDir string
}

// startTechAgent runs an agent until the test ends. The temperature limit
// is set so that a latching temp alarm is raised within seconds.
func startTechAgent(t *testing.T) *techAgent {
	t.Helper()
	dir := t.TempDir()
	pki, err := tlstest.WritePKI(filepath.Join(dir, "pki"), "MA-0042")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Device.ID = "MA-0042"
	cfg.Spool.Dir = filepath.Join(dir, "spool")
	cfg.MQTT.Broker = "tls://127.0.0.1:1"
	cfg.MQTT.CAFile = filepath.Join(pki.Dir, tlstest.CAFile)
	cfg.MQTT.CertFile = filepath.Join(pki.Dir, tlstest.DeviceCertFile)
	cfg.MQTT.KeyFile = filepath.Join(pki.Dir, tlstest.DeviceKeyFile)
	cfg.MQTT.BackoffMin, cfg.MQTT.BackoffMax = 2*time.Minute, 2*time.Minute // one failed connect, then quiet
	cfg.Alarms.Temp.Low, cfg.Alarms.Temp.CriticalLow = 0, 0
	cfg.Alarms.Temp.High, cfg.Alarms.Temp.CriticalHigh = 30, 45
	cfg.Alarms.Temp.OnsetDelay, cfg.Alarms.Temp.Latching = 0, true
	cfg.Update.FWEnvConfig = bootEnv(t, dir, "mender_boot_part=3\nupgrade_available=1\nbootcount=1\n")
	sock := filepath.Join(dir, "control.sock")
	t.Setenv(control.SocketEnv, sock)
	log := slog.New(control.NewRing(slog.NewTextHandler(io.Discard, nil), 500))
	a, err := agent.New(agent.Options{Config: cfg, Role: agent.RoleAll, Logger: log, Bench: simbench.New})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent Run: %v", err)
		}
	})
	ta := &techAgent{dir: dir, socket: sock, spoolDir: cfg.Spool.Dir}
	// Wait until every sensor has valid data and the temp alarm is up.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var s control.Status
		err := control.Call(context.Background(), sock, control.Request{Cmd: control.CmdStatus}, &s)
		if err == nil && len(s.Alarms) == 1 && s.Spool.Pending > 0 && !slices.ContainsFunc(s.Sensors, func(x control.Sensor) bool { return x.State != "ok" }) {
			return ta
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent not ready after 30s: %v %+v", err, s)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// bootEnv writes a U-Boot environment with Debian's mkenvimage and the
// fw_env.config that locates it.
func bootEnv(t *testing.T, dir, vars string) string {
	t.Helper()
	mk, err := exec.LookPath("mkenvimage")
	if err != nil {
		t.Fatal("mkenvimage not found: install the Debian package u-boot-tools (scripts/setup.sh does)")
	}
	in, img := filepath.Join(dir, "env.txt"), filepath.Join(dir, "uboot.env")
	if err := os.WriteFile(in, []byte(vars), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(mk, "-s", "0x4000", "-o", img, in).CombinedOutput(); err != nil {
		t.Fatalf("mkenvimage: %v: %s", err, out)
	}
	cfg := filepath.Join(dir, "fw_env.config")
	if err := os.WriteFile(cfg, []byte(img+" 0x0 0x4000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// run runs the CLI and returns its exit code, stdout and stderr.
func (ta *techAgent) run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

var (
	reTime     = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
	reDate     = regexp.MustCompile(`\d{4}-\d\d-\d\d`)
	reDur      = regexp.MustCompile(`\b(\d+h)?(\d+m)?\d+(\.\d+)?(s|ms)\b`)
	reNum      = regexp.MustCompile(`\d+(\.\d+)?`)
	reSpaces   = regexp.MustCompile(` +`)
	reSerial   = regexp.MustCompile(`serial( +)[0-9A-F]+`)
	reNoOldest = regexp.MustCompile(`(?m)^((?:telemetry|events|alarms) +\d+ +\d+) +- `)
)

// maskHuman hides what changes from run to run: the temp directory,
// times, durations and numbers (column widths follow the numbers, so runs
// of spaces are collapsed too).
func (ta *techAgent) maskHuman(s string) string {
	s = strings.ReplaceAll(s, ta.dir, "$DIR")
	s = reSerial.ReplaceAllString(s, "serial SERIAL")
	s = reTime.ReplaceAllString(s, "TIME")
	s = reNoOldest.ReplaceAllString(s, "$1 TIME ") // spool stats: "-" when nothing is pending
	s = reDate.ReplaceAllString(s, "DATE")
	s = reDur.ReplaceAllString(s, "DUR")
	s = strings.ReplaceAll(s, "127.0.0.1:1", "127.0.0.1:PORT")
	s = reNum.ReplaceAllString(s, "N")
	return reSpaces.ReplaceAllString(s, " ")
}

// maskJSON keeps every key and the shape, and hides volatile values.
func (ta *techAgent) maskJSON(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(strings.ReplaceAll(s, ta.dir, "$DIR")), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	var walk func(k string, v any) any
	walk = func(k string, v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k2, v2 := range x {
				x[k2] = walk(k2, v2)
			}
		case []any:
			for i := range x {
				x[i] = walk(k, x[i])
			}
		case float64:
			return 0
		case nil:
			if k == "oldest" { // null when nothing is pending
				return "TIME"
			}
		case string:
			if reTime.MatchString(x) {
				return "TIME"
			}
			if k == "serial" {
				return "SERIAL"
			}
			if k == "detail" {
				return reNum.ReplaceAllString(x, "N")
			}
		}
		return v
	}
	b, err := json.MarshalIndent(walk("", v), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", "tech", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./cli -run Tech -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./cli -run Tech -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// pinSchema decodes out into a fresh T refusing unknown fields and checks
// that re-encoding keeps every key: the --json schema is the Go type.
func pinSchema[T any](t *testing.T, name, out string) {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: output does not match %T: %v\n%s", name, v, err, out)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var a, c any
	json.Unmarshal([]byte(out), &a)
	json.Unmarshal(b, &c)
	if ka, kc := keys(a, ""), keys(c, ""); !slices.Equal(ka, kc) {
		t.Fatalf("%s: keys %v after a round trip through %T, printed %v", name, kc, v, ka)
	}
}

func keys(v any, prefix string) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, v2 := range x {
			out = append(out, prefix+k)
			out = append(out, keys(v2, prefix+k+".")...)
		}
	case []any:
		for _, v2 := range x {
			out = append(out, keys(v2, prefix+"[].")...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func checkWidth(t *testing.T, name, out string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if utf8.RuneCountInString(l) > width {
			t.Errorf("%s: line wider than %d columns: %q", name, width, l)
		}
		if strings.Contains(l, "\x1b") {
			t.Errorf("%s: escape sequence in output to a non-terminal: %q", name, l)
		}
	}
}

func TestTechCommands(t *testing.T) {
	ta := startTechAgent(t)
	sock := "--socket=" + ta.socket
	var alarms []control.Alarm
	if err := control.Call(context.Background(), ta.socket, control.Request{Cmd: control.CmdAlarms}, &alarms); err != nil || len(alarms) != 1 {
		t.Fatalf("alarms %+v, %v", alarms, err)
	}
	ackID := alarms[0].ID
	type cmd struct {
		name string
		args []string
		code int
		pin  func(t *testing.T, name, out string)
	}
	cmds := []cmd{
		{"status", []string{"status"}, 0, nil},
		{"status.json", []string{"status", "--json"}, 0, pinSchema[control.Status]},
		{"sensors", []string{"sensors"}, 0, nil},
		{"sensors.json", []string{"sensors", "list", "--json"}, 0, pinSchema[[]control.Sensor]},
		{"sensors-read", []string{"sensors", "read", "temp"}, 0, nil},
		{"sensors-read.json", []string{"sensors", "read", "ppg", "--json"}, 0, pinSchema[control.Sensor]},
		{"sensors-watch", []string{"sensors", "watch", "--interval=100ms", "--count=2"}, 0, nil},
		{"alarms", []string{"alarms"}, 0, nil},
		{"alarms.json", []string{"alarms", "list", "--json"}, 0, pinSchema[[]control.Alarm]},
		{"alarms-ack", []string{"alarms", "ack", itoa(ackID)}, 0, nil},
		{"alarms-acked", []string{"alarms", "list"}, 0, nil},
		{"spool", []string{"spool", "stats"}, 0, nil},
		{"spool.json", []string{"spool", "stats", "--json"}, 0, pinSchema[control.SpoolStats]},
		{"certs", []string{"certs", "show"}, 0, nil},
		{"certs.json", []string{"certs", "show", "--json"}, 0, pinSchema[control.Certs]},
		{"selftest", []string{"selftest"}, 1, nil},
		{"selftest.json", []string{"selftest", "--json"}, 1, pinSchema[control.Selftest]},
	}
	for _, c := range cmds {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := ta.run(append(c.args, sock)...)
			if code != c.code {
				t.Fatalf("medagent %v: exit %d, want %d; stderr: %s", c.args, code, c.code, errOut)
			}
			if c.pin != nil {
				c.pin(t, c.name, out)
				golden(t, c.name, ta.maskJSON(t, out))
				return
			}
			checkWidth(t, c.name, out)
			golden(t, c.name, ta.maskHuman(out))
		})
	}

	t.Run("acked", func(t *testing.T) {
		var as []control.Alarm
		if err := control.Call(context.Background(), ta.socket, control.Request{Cmd: control.CmdAlarms}, &as); err != nil || len(as) != 1 || !as[0].Acknowledged {
			t.Fatalf("after ack: %+v, %v", as, err)
		}
	})
	t.Run("logs", func(t *testing.T) {
		code, out, errOut := ta.run("logs", sock)
		if code != 0 || !strings.Contains(out, "agent running") || !strings.Contains(out, "control socket listening") ||
			!strings.Contains(out, "alarm acknowledged by technician") {
			t.Fatalf("logs: exit %d, stdout:\n%s\nstderr: %s", code, out, errOut)
		}
		code, out, _ = ta.run("logs", "--json", "--since=1h", sock)
		if code != 0 {
			t.Fatalf("logs --json: exit %d", code)
		}
		pinSchema[[]control.LogRecord](t, "logs.json", out)
		// -f prints the backlog and keeps following until interrupted.
		ctx, cancel := context.WithCancel(context.Background()) // as Ctrl-C does
		defer time.AfterFunc(1500*time.Millisecond, cancel).Stop()
		var fo, fe bytes.Buffer
		if code := Main(ctx, []string{"logs", "-f", sock}, &fo, &fe); code != 0 || !strings.Contains(fo.String(), "agent running") {
			t.Fatalf("logs -f: exit %d, stdout:\n%s\nstderr: %s", code, fo.String(), fe.String())
		}
	})
	t.Run("ack spooled", func(t *testing.T) {
		var sp control.SpoolStats
		if err := control.Call(context.Background(), ta.socket, control.Request{Cmd: control.CmdSpool}, &sp); err != nil {
			t.Fatal(err)
		}
		// raised, then acknowledged: two alarm records at least (none is
		// published: the broker is unreachable).
		if n := sp.Classes["alarms"].Pending; n < 2 {
			t.Fatalf("alarms class holds %d records after raise and ack, want at least 2", n)
		}
	})
	t.Run("errors", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			code int
			msg  string
		}{
			{[]string{"sensors", "read", "eeg", sock}, 1, "no such sensor"},
			{[]string{"alarms", "ack", "99999", sock}, 1, "no such alarm"},
			{[]string{"alarms", "ack", "x", sock}, 2, "not an alarm ID"},
			{[]string{"sensors", "watch", "--interval=1ms", sock}, 2, "at least 100ms"},
			{[]string{"status", "extra", sock}, 2, "no arguments"},
			{[]string{"diag", "bundle", sock}, 2, "-o FILE"},
			{[]string{"logs", "--since=-1s", sock}, 2, "negative"},
		} {
			code, _, errOut := ta.run(c.args...)
			if code != c.code || !strings.Contains(errOut, c.msg) {
				t.Errorf("medagent %v: exit %d stderr %q, want exit %d mentioning %q", c.args, code, errOut, c.code, c.msg)
			}
		}
	})
	t.Run("diag", func(t *testing.T) { checkBundle(t, ta) })
}

func itoa(n uint64) string { b, _ := json.Marshal(n); return string(b) }

// checkBundle writes a diag bundle and checks it holds what it should and
// no keys and no vitals.
func checkBundle(t *testing.T, ta *techAgent) {
	out := filepath.Join(ta.dir, "diag.tar.gz")
	code, stdout, errOut := ta.run("diag", "bundle", "-o", out, "--socket", ta.socket)
	if code != 0 {
		t.Fatalf("diag bundle: exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "wrote "+out) {
		t.Errorf("diag bundle said %q", stdout)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimPrefix(h.Name, "medagent-diag/")] = string(b)
	}
	for _, want := range []string{"version.txt", "status.json", "config.yaml", "bootenv.txt", "logs.json", "spool.json", "certs.json", "selftest.json", "alarms.txt"} {
		if _, ok := files[want]; !ok {
			t.Errorf("bundle lacks %s (has %v)", want, slices.Sorted(mapKeys(files)))
		}
	}
	if !strings.Contains(files["bootenv.txt"], "mender_boot_part=3\n") {
		t.Errorf("bootenv.txt lacks mender_boot_part=3:\n%s", files["bootenv.txt"])
	}
	if !strings.Contains(files["config.yaml"], filepath.Join(ta.dir, "pki", tlstest.DeviceKeyFile)) {
		t.Errorf("config.yaml lacks the key file path:\n%s", files["config.yaml"])
	}
	key, err := os.ReadFile(filepath.Join(ta.dir, "pki", tlstest.DeviceKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	keyBody := strings.Split(string(key), "\n")[1] // first base64 line of the key
	for name, body := range files {
		if strings.Contains(body, "PRIVATE KEY") || strings.Contains(body, keyBody) {
			t.Errorf("%s holds key material", name)
		}
		// Vitals travel as MDC_* records (spool payloads, sensor values).
		if strings.Contains(body, "MDC_") {
			t.Errorf("%s holds vitals:\n%s", name, body)
		}
	}
	// No spool payload: no file holds a segment's bytes.
	segs, _ := filepath.Glob(filepath.Join(ta.spoolDir, "*", "*"))
	if len(segs) == 0 {
		t.Fatalf("no spool segments under %s to compare with", ta.spoolDir)
	}
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
