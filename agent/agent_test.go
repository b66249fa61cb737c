package agent

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"medagent/acquire/simbench"
	"medagent/config"
	"medagent/handoff"
	"medagent/spool"
	"medagent/telemetry"
	"medagent/tlsconf/tlstest"
)

func testConfig(t *testing.T) config.Config {
	t.Helper()
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	if _, err := tlstest.WritePKI(pki, "MA-T"); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	if err := os.WriteFile(filepath.Join(dir, "spool.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Device.ID = "MA-T"
	cfg.Spool.Dir = filepath.Join(dir, "spool")
	cfg.Spool.KeyFile = filepath.Join(dir, "spool.key")
	cfg.MQTT.Broker = "tls://127.0.0.1:1"
	cfg.MQTT.CAFile = filepath.Join(pki, tlstest.CAFile)
	cfg.MQTT.CertFile = filepath.Join(pki, tlstest.DeviceCertFile)
	cfg.MQTT.KeyFile = filepath.Join(pki, tlstest.DeviceKeyFile)
	cfg.Handoff.Dir = filepath.Join(dir, "handoff")
	cfg.Handoff.StateDir = filepath.Join(dir, "shared", "handoff")
	// Never the machine's /run/medagent/control.sock: tests run in
	// parallel, and a test machine may run a real agent.
	cfg.Control.Socket = filepath.Join(dir, "control.sock")
	return cfg
}

// obey hands a command to the agent's acquire side through the hand-off,
// as the uplink does, and waits for the item's final state.
func obey(t *testing.T, hand *handoff.Producer, payload []byte) handoff.State {
	t.Helper()
	id, err := hand.Submit(context.Background(), handoff.Item{Kind: handoff.KindCommand, Envelope: payload})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := hand.State(id)
		if err == nil && (st.Phase.Final() || st.Phase == handoff.Fetch) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("command item %s: state %+v, %v after 20 s", id, st, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Bad input at start gives a clear error naming the thing and the fix.
func TestNewRefusesBadFiles(t *testing.T) {
	cases := []struct {
		name  string
		mod   func(t *testing.T, c *config.Config)
		wants []string
	}{
		{"missing CA", func(t *testing.T, c *config.Config) { c.MQTT.CAFile += ".missing" }, []string{".missing"}},
		{"missing cert", func(t *testing.T, c *config.Config) { c.MQTT.CertFile += ".missing" }, []string{".missing"}},
		{"key readable by others", func(t *testing.T, c *config.Config) { os.Chmod(c.MQTT.KeyFile, 0o644) }, []string{"device.key", "chmod 600"}},
		{"key not matching", func(t *testing.T, c *config.Config) {
			other := filepath.Join(t.TempDir(), "other")
			tlstest.WritePKI(other, "MA-T")
			c.MQTT.KeyFile = filepath.Join(other, tlstest.DeviceKeyFile)
		}, []string{"other"}},
		{"spool key readable by others", func(t *testing.T, c *config.Config) { os.Chmod(c.Spool.KeyFile, 0o644) }, []string{"spool.key", "chmod 640"}},
		{"spool key writable by group", func(t *testing.T, c *config.Config) { os.Chmod(c.Spool.KeyFile, 0o660) }, []string{"spool.key", "chmod 640"}},
		{"spool key wrong size", func(t *testing.T, c *config.Config) { os.WriteFile(c.Spool.KeyFile, []byte("short"), 0o600) }, []string{"spool.key", "32-byte"}},
		{"spool dir not writable", func(t *testing.T, c *config.Config) {
			f := filepath.Join(t.TempDir(), "file")
			os.WriteFile(f, nil, 0o600)
			c.Spool.Dir = filepath.Join(f, "spool")
		}, []string{"/file", "not a directory"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			tc.mod(t, &cfg)
			_, err := New(Options{Config: cfg, Role: RoleAll, Logger: quiet, Bench: simbench.New})
			if err == nil {
				t.Fatal("New accepted it")
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// The acquire role runs without any network and fills the spool; nothing
// of the uplink (its certificate files) is needed.
func TestAcquireRoleSpools(t *testing.T) {
	cfg := testConfig(t)
	cfg.MQTT.CAFile = "/nonexistent/ca.pem" // the acquire role must not need it
	a, err := New(Options{Config: cfg, Role: RoleAcquire, Logger: quiet, Bench: simbench.New})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	// Three windows of three sensors. Waited for, not timed: on a loaded
	// machine a window may be cut late (it is never skipped).
	var n uint64
	for end := time.Now().Add(60 * time.Second); n < 3*3 && time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		st, err := spool.ReadStats(cfg.Spool.Dir)
		if err != nil {
			t.Fatal(err)
		}
		n = st.Classes[telemetry.ClassTelemetry].Pending
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n < 3*3 {
		t.Errorf("acquire role spooled %d telemetry packs in 60 s, want at least 9", n)
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range []string{"all", "acquire", "uplink"} {
		if got, err := ParseRole(r); err != nil || string(got) != r {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, err)
		}
	}
	if _, err := ParseRole("both"); err == nil {
		t.Error("ParseRole accepted \"both\"")
	}
}

// Without a TPM the spool's data key is made at first start, 32 random
// bytes readable by the agent and its group only (the spool reader, when
// the roles are different users), and reused after that.
func TestDataKeyMadeAtFirstStart(t *testing.T) {
	cfg := testConfig(t)
	cfg.Trust.TPM = "off"
	os.Remove(cfg.Spool.KeyFile)
	a, err := New(Options{Config: cfg, Role: RoleAcquire, Logger: quiet, Bench: simbench.New})
	if err != nil {
		t.Fatal(err)
	}
	a.close()
	st, err := os.Stat(cfg.Spool.KeyFile)
	if err != nil {
		t.Fatalf("no key file made: %v", err)
	}
	if st.Mode().Perm() != 0o640 || st.Size() != 32 {
		t.Errorf("key file mode %v size %d, want 0640 and 32 bytes", st.Mode().Perm(), st.Size())
	}
	first, _ := os.ReadFile(cfg.Spool.KeyFile)
	a, err = New(Options{Config: cfg, Role: RoleAcquire, Logger: quiet, Bench: simbench.New})
	if err != nil {
		t.Fatalf("second start with the key it made: %v", err)
	}
	a.close()
	again, _ := os.ReadFile(cfg.Spool.KeyFile)
	if string(first) != string(again) {
		t.Error("the key changed at the second start: the spool would be unreadable")
	}
}

// Under systemd (Type=notify) the agent says READY=1 on NOTIFY_SOCKET once
// it runs, and pets the watchdog while acquisition makes progress.
func TestSystemdReadyAndWatchdog(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "400000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	a, err := New(Options{Config: testConfig(t), Role: RoleAcquire, Logger: quiet, Bench: simbench.New})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	go a.Run(ctx)
	var got []string
	buf := make([]byte, 256)
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		n, err := conn.Read(buf)
		if err != nil {
			break
		}
		got = append(got, string(buf[:n]))
	}
	all := strings.Join(got, "|")
	if !strings.Contains(all, "READY=1") || strings.Count(all, "WATCHDOG=1") < 3 {
		t.Errorf("notifications %q, want READY=1 and watchdog pets every 200 ms", got)
	}
}

// The device build has no simulators: a sensor on bus sim is refused at
// start with the entry and the way out named.
func TestNoBenchRefusesSimBus(t *testing.T) {
	_, err := New(Options{Config: testConfig(t), Role: RoleAcquire, Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), `sensors[0] "ecg": bus sim`) || !strings.Contains(err.Error(), "medagent-sim") {
		t.Fatalf("New without a bench = %v, want the sim bus refused naming the sensor and the bench build", err)
	}
}
