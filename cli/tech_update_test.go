package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"medagent/acquire/simbench"
	"medagent/agent"
	"medagent/config"
	"medagent/control"
	"medagent/update/engine"
)

// fakeUpdateAgent serves only the update command, recording what it got.
func fakeUpdateAgent(t *testing.T, upd func(ctx context.Context, op, arg string) (any, error)) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "control.sock")
	s, err := control.NewServer(control.Options{Path: sock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Provider: control.Provider{Update: upd}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	for i := 0; ; i++ {
		if _, err := os.Stat(sock); err == nil {
			return sock
		}
		if i == 500 {
			t.Fatal("socket never appeared")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestUpdateThroughAgent(t *testing.T) {
	var got []string
	sock := fakeUpdateAgent(t, func(ctx context.Context, op, arg string) (any, error) {
		got = append(got, op+" "+arg)
		if op == "rollback" {
			return nil, errors.New("engine: nothing to roll back")
		}
		return engine.Status{State: engine.StateIdle, Installed: map[string]string{"artifact_name": "release-2"}}, nil
	})
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), args, &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, out, errOut := run("update", "status", "--socket", sock); code != 0 || !strings.Contains(out, "installed: release-2") {
		t.Fatalf("update status: exit %d, %q %q", code, out, errOut)
	}
	if code, out, _ := run("update", "status", "--json", "--socket", sock); code != 0 || !strings.Contains(out, `"state": "idle"`) {
		t.Fatalf("update status --json: exit %d, %q", code, out)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	if code, _, errOut := run("update", "install", "new.mender", "--socket", sock); code != 0 {
		t.Fatalf("update install: exit %d %s", code, errOut)
	}
	if code, _, errOut := run("update", "rollback", "--socket", sock); code != 1 || !strings.Contains(errOut, "nothing to roll back") {
		t.Fatalf("update rollback: exit %d %q, want 1 and the engine's error", code, errOut)
	}
	want := []string{"status ", "status ", "install " + filepath.Join(dir, "new.mender"), "rollback "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("agent got %q, want %q", got, want)
	}
	if code, _, errOut := run("update", "install", "--socket", sock); code != 2 {
		t.Fatalf("update install without artifact: exit %d %s, want 2", code, errOut)
	}
}

// TestUpdateStatusRejectedJournal: when the agent rejected the journal it
// found at start (forged or replayed), update status says so and exits 1,
// in text and JSON, so that a script does not take it for the state.
func TestUpdateStatusRejectedJournal(t *testing.T) {
	sock := fakeUpdateAgent(t, func(ctx context.Context, op, arg string) (any, error) {
		return engine.Status{State: engine.StateIdle, JournalCheck: engine.CheckFailed,
			JournalRejected: "engine: journal counter 49, the device's counter is 50"}, nil
	})
	for _, args := range [][]string{{"update", "status", "--socket", sock}, {"update", "status", "--json", "--socket", sock}} {
		var out, errb bytes.Buffer
		code := Main(context.Background(), args, &out, &errb)
		if code != 1 || !strings.Contains(out.String()+errb.String(), "counter 49") || !strings.Contains(errb.String(), "failed its check") {
			t.Errorf("%v: exit %d, %q %q; want 1 and the reason", args, code, out.String(), errb.String())
		}
	}
}

func TestUpdateOffline(t *testing.T) {
	journal := filepath.Join(t.TempDir(), "update.journal")
	var out, errb bytes.Buffer
	// No agent: the command works on the (absent, so idle) journal itself.
	code := Main(context.Background(), []string{"update", "status", "--journal", journal, "--socket", filepath.Join(t.TempDir(), "none.sock")}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "state:     idle") {
		t.Fatalf("offline update status: exit %d %q %q", code, out.String(), errb.String())
	}
	// No agent and no offline flag: a note, then the default journal.
	out.Reset()
	errb.Reset()
	code = Main(context.Background(), []string{"update", "status", "--socket", filepath.Join(t.TempDir(), "none.sock")}, &out, &errb)
	if code != 0 || !strings.Contains(errb.String(), "not running; working on the files directly") || !strings.Contains(out.String(), "state:") {
		t.Fatalf("update status without agent: exit %d %q %q", code, out.String(), errb.String())
	}
	// An agent without an update engine says so instead of working offline.
	sock := filepath.Join(t.TempDir(), "control.sock")
	s, err := control.NewServer(control.Options{Path: sock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for i := 0; i < 500; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	out.Reset()
	errb.Reset()
	code = Main(context.Background(), []string{"update", "commit", "--socket", sock}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "no update engine") {
		t.Fatalf("update commit with an agent without engine: exit %d %q", code, errb.String())
	}
}

// TestTechUpdateInstall installs a signed artifact through a running agent
// while the simulated patient is monitored: install answers at once, the
// reboot waits (reboot-pending), and update reboot lets it go ahead.
func TestTechUpdateInstall(t *testing.T) {
	for _, tool := range []string{"mender-artifact", "mkenvimage"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: install the Debian packages mender-artifact and u-boot-tools (scripts/setup.sh)", tool)
		}
	}
	dir := t.TempDir()
	runTool := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
	}
	cfg := config.Default()
	cfg.Device.ID = "MA-0042"
	cfg.Spool.Dir = filepath.Join(dir, "spool")
	cfg.Update.Enabled = true
	cfg.Update.Journal = filepath.Join(dir, "update.journal")
	cfg.Handoff.Dir = filepath.Join(dir, "handoff")
	cfg.Handoff.StateDir = filepath.Join(dir, "shared", "handoff")
	cfg.Update.FWEnvConfig = bootEnv(t, dir, "mender_boot_part=2\nmender_boot_part_hex=2\nupgrade_available=0\nbootcount=0\n")
	cfg.Update.SlotA, cfg.Update.SlotB = filepath.Join(dir, "slotA"), filepath.Join(dir, "slotB")
	// The boot loader booted slot A and says so on the kernel command line.
	cfg.Update.Cmdline = filepath.Join(dir, "cmdline")
	if err := os.WriteFile(cfg.Update.Cmdline, []byte("console=ttyS0 medagent.slot=a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{cfg.Update.SlotA, cfg.Update.SlotB} {
		if err := os.WriteFile(s, make([]byte, 1<<20), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalECPrivateKey(k)
	pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	os.WriteFile(filepath.Join(dir, "sign.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, "sign.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600)
	cfg.Update.Keys = []string{filepath.Join(dir, "sign.pub")}
	rebooted := filepath.Join(dir, "rebooted")
	cfg.Update.RebootCommand = []string{"touch", rebooted}
	img := make([]byte, 256<<10)
	rand.Read(img)
	os.WriteFile(filepath.Join(dir, "rootfs.ext4"), img, 0o600)
	art := filepath.Join(dir, "release-2.mender")
	cfg.Update.InstallDir = dir
	runTool("mender-artifact", "write", "rootfs-image", "-f", filepath.Join(dir, "rootfs.ext4"), "-n", "release-2",
		"-t", cfg.Device.Type, "-o", art, "-k", filepath.Join(dir, "sign.pem"))

	sock := filepath.Join(dir, "control.sock")
	t.Setenv(control.SocketEnv, sock)
	a, err := agent.New(agent.Options{Config: cfg, Role: agent.RoleAcquire, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Bench: simbench.New})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	})
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), append(args, "--socket", sock), &out, &errb)
		return code, out.String(), errb.String()
	}
	status := func() engine.Status {
		t.Helper()
		code, out, errOut := run("update", "status", "--json")
		var st engine.Status
		if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
			t.Fatalf("update status --json: exit %d %q %q", code, out, errOut)
		}
		return st
	}
	deadline := time.Now().Add(60 * time.Second)
	for { // monitored: every sensor has valid vitals
		var ss []control.Sensor
		err := control.Call(ctx, sock, control.Request{Cmd: control.CmdSensors}, &ss)
		if err == nil && !slices.ContainsFunc(ss, func(s control.Sensor) bool { return s.State != "ok" }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sensors not ok within 60 s: %+v %v", ss, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if st := status(); st.State != engine.StateIdle {
		t.Fatalf("before install: state %s, want idle", st.State)
	}
	if code, out, errOut := run("update", "install", art); code != 0 || !strings.Contains(out, "install started") {
		t.Fatalf("update install: exit %d %q %q", code, out, errOut)
	}
	for st := status(); !st.RebootPending; st = status() {
		if time.Now().After(deadline) {
			t.Fatalf("no reboot-pending while the patient is monitored; status %+v", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := os.Stat(rebooted); err == nil {
		t.Fatal("rebooted while a patient was monitored")
	}
	if code, out, errOut := run("update", "reboot"); code != 0 || !strings.Contains(out, "reboot allowed") {
		t.Fatalf("update reboot: exit %d %q %q", code, out, errOut)
	}
	for {
		if _, err := os.Stat(rebooted); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reboot command did not run after update reboot; status %+v", status())
		}
		time.Sleep(100 * time.Millisecond)
	}
	slotB, _ := os.ReadFile(cfg.Update.SlotB)
	if !bytes.Equal(slotB[:len(img)], img) {
		t.Error("slot B does not hold the image")
	}
	// A second install while one is in the engine is refused at once.
	if code, _, errOut := run("update", "install", art); code != 1 {
		t.Errorf("second install: exit %d %q, want 1", code, errOut)
	}
}

// TestUpdateInstallHelpListsOfflineFlags: `update install -h` names every
// flag the command accepts, the offline ones included, with the one
// default reboot command.
func TestUpdateInstallHelpListsOfflineFlags(t *testing.T) {
	var out, errb bytes.Buffer
	Main(context.Background(), []string{"update", "install", "-h"}, &out, &errb)
	help := out.String() + errb.String()
	for _, f := range []string{"--socket", "--json", "--journal", "--slot-a", "--slot-b", "--part-a", "--part-b", "--key", "--device-type",
		"--fw-env-config", "--fw-env-lock", "--grubenv", "--scripts-dir", "--reboot-cmd", "--download-dir", "--no-reboot", "--cmdline"} {
		if !strings.Contains(help, "  "+f+" ") && !strings.Contains(help, "  "+f+"\n") {
			t.Errorf("update install -h does not list %s:\n%s", f, help)
		}
	}
	if !strings.Contains(help, "(default: /sbin/reboot)") {
		t.Errorf("update install -h: default reboot command is not /sbin/reboot:\n%s", help)
	}
}
