package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"medagent/acquire/simbench"
	"medagent/agent"
	"medagent/config"
	"medagent/control"
	"medagent/tlsconf/tlstest"
)

func TestTechNotRunning(t *testing.T) {
	sock := "--socket=" + filepath.Join(t.TempDir(), "none.sock")
	for _, args := range [][]string{
		{"status"}, {"sensors"}, {"alarms"}, {"spool", "stats"}, {"certs", "show"}, {"logs"}, {"selftest"},
		{"diag", "bundle", "-o", filepath.Join(t.TempDir(), "d.tgz")},
	} {
		var out, errb bytes.Buffer
		code := Main(context.Background(), append(args, sock), &out, &errb)
		if code != ExitNotRunning || !strings.Contains(errb.String(), "not running") {
			t.Errorf("medagent %v without an agent: exit %d, stderr %q; want 3 and 'not running'", args, code, errb.String())
		}
	}
	// The offline commands still work.
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"spool", "stats", "--dir", dir, sock}, &out, &errb); code != 0 || !strings.Contains(out.String(), "telemetry") {
		t.Errorf("spool stats --dir needs no agent: exit %d: %s %s", code, out.String(), errb.String())
	}
	pki, err := tlstest.WritePKI(filepath.Join(dir, "pki"), "MA-0042")
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	code := Main(context.Background(), []string{"certs", "show", "--cert", filepath.Join(pki.Dir, tlstest.DeviceCertFile), sock}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "CN=MA-0042") {
		t.Errorf("certs show --cert: exit %d, %s %s", code, out.String(), errb.String())
	}
}

func TestTechHelp(t *testing.T) {
	for _, args := range [][]string{
		{"status", "-h"}, {"sensors", "list", "-h"}, {"sensors", "read", "-h"}, {"sensors", "watch", "-h"},
		{"alarms", "list", "-h"}, {"alarms", "ack", "-h"}, {"spool", "stats", "-h"}, {"certs", "show", "-h"},
		{"logs", "-h"}, {"diag", "bundle", "-h"}, {"selftest", "-h"}, {"update", "status", "-h"}, {"update", "install", "-h"},
	} {
		var out, errb bytes.Buffer
		code := Main(context.Background(), args, &out, &errb)
		if code != 0 || !strings.Contains(out.String(), "Example") || !strings.Contains(out.String(), "medagent "+args[0]) {
			t.Errorf("medagent %v: exit %d, help without examples:\n%s", args, code, out.String())
		}
	}
}

// TestTechSplitRoles runs the acquire and uplink roles as two agents on one
// spool: each serves its own socket and status says what it runs.
func TestTechSplitRoles(t *testing.T) {
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
	cfg.MQTT.BackoffMin, cfg.MQTT.BackoffMax = 2*time.Minute, 2*time.Minute
	sock := filepath.Join(dir, "control.sock")
	t.Setenv(control.SocketEnv, sock)
	ctx, cancel := context.WithCancel(context.Background())
	var dones []chan error
	t.Cleanup(func() {
		cancel()
		for _, d := range dones {
			if err := <-d; err != nil {
				t.Errorf("agent: %v", err)
			}
		}
	})
	for _, role := range []agent.Role{agent.RoleAcquire, agent.RoleUplink} {
		a, err := agent.New(agent.Options{Config: cfg, Role: role, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Bench: simbench.New})
		if err != nil {
			t.Fatal(err)
		}
		d := make(chan error, 1)
		dones = append(dones, d)
		go func() { d <- a.Run(ctx) }()
	}
	for _, c := range []struct {
		path, role, sensorState string
		broker                  bool
	}{
		{sock, "acquire", "", false},
		{filepath.Join(dir, "control-uplink.sock"), "uplink", "remote", true},
	} {
		var s control.Status
		var err error
		for i := 0; i < 100; i++ {
			if err = control.Call(ctx, c.path, control.Request{Cmd: control.CmdStatus}, &s); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		if s.Role != c.role || s.Broker.Enabled != c.broker || len(s.Sensors) != 3 ||
			c.sensorState != "" && s.Sensors[0].State != c.sensorState {
			t.Errorf("%s: role %s broker enabled %t sensors %+v; want %s, %t, state %q", c.path, s.Role, s.Broker.Enabled, s.Sensors, c.role, c.broker, c.sensorState)
		}
	}
}
