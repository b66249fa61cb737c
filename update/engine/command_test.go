package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"medagent/internal/cmdline"
)

func (w *world) cliArgs(sub string, extra ...string) []string {
	cfg := filepath.Join(w.dir, "fw_env.config")
	c := w.env.Config()
	var b strings.Builder
	for _, l := range c.Copies {
		fmt.Fprintf(&b, "%s %#x %#x\n", l.Path, l.Offset, l.Size)
	}
	must(w.t, os.WriteFile(cfg, []byte(b.String()), 0o644))
	args := []string{sub, "--journal", filepath.Join(w.dir, "update.journal"), "--fw-env-config", cfg,
		"--fw-env-lock", c.LockFile, "--slot-a", w.slots.A.Device, "--slot-b", w.slots.B.Device,
		"--part-a", "2", "--part-b", "3", "--cmdline", w.slots.CmdlinePath, "--scripts-dir", filepath.Join(w.dir, "none"), "--reboot-cmd", "true", "--tpm", "off"}
	return append(args, extra...)
}

func TestCommand(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	payload := filepath.Join(w.dir, "release-2.mender")
	must(t, os.WriteFile(payload, w.newImg, 0o644))
	key := filepath.Join(w.dir, "key.pem")
	must(t, os.WriteFile(key, []byte("-----BEGIN PUBLIC KEY-----\n"), 0o644))
	var gotPEM [][]byte
	defer func(old func(io.Reader, [][]byte, Verification, OpenRequest) (Artifact, error)) { openArtifact = old }(openArtifact)
	openArtifact = func(r io.Reader, pems [][]byte, v Verification, req OpenRequest) (Artifact, error) {
		gotPEM = pems
		if v.DeviceType != "bedside-v2" {
			return nil, fmt.Errorf("device type %q", v.DeviceType)
		}
		return fakeOpener("release-2", sha256Of(w.newImg), int64(len(w.newImg)), nil)(r, req)
	}
	var out, errb bytes.Buffer
	run := func(args ...string) error {
		out.Reset()
		errb.Reset()
		return command(ctx, &out, &errb, args)
	}

	// Fail closed without a key: nothing written.
	slotB, _ := os.ReadFile(w.slots.B.Device)
	err := run(w.cliArgs("install", "--device-type", "bedside-v2", payload)...)
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "no --key") {
		t.Fatalf("install without key: %v", err)
	}
	if b, _ := os.ReadFile(w.slots.B.Device); !bytes.Equal(b, slotB) {
		t.Fatal("slot written without a key")
	}

	must(t, run(w.cliArgs("install", "--key", key, "--device-type", "bedside-v2", payload)...))
	if len(gotPEM) != 1 || !strings.Contains(string(gotPEM[0]), "PUBLIC KEY") {
		t.Errorf("keys passed: %q", gotPEM)
	}
	must(t, run("status", "--json", "--tpm", "off", "--journal", filepath.Join(w.dir, "update.journal")))
	var st Status
	must(t, json.Unmarshal(out.Bytes(), &st))
	if st.State != StateReboot || st.Artifact != "release-2" || st.ToSlot != "B" {
		t.Fatalf("status after install: %s", out.String())
	}
	// commit before the reboot into B: refused, nothing changes.
	err = run(w.cliArgs("commit")...)
	if !errors.Is(err, ErrNotBooted) || !strings.Contains(err.Error(), "has not booted yet") {
		t.Fatalf("commit before the reboot: %v", err)
	}
	if v, _ := w.env.ReadEnv("upgrade_available"); v["upgrade_available"] != "1" {
		t.Fatalf("commit before the reboot changed the environment: %v", v)
	}
	if s := w.boot(); s.Name != "B" {
		t.Fatal("did not boot B")
	}
	// commit (operator) on the new slot, then status in text.
	must(t, run(w.cliArgs("commit")...))
	must(t, run(w.cliArgs("status")...))
	if !strings.Contains(out.String(), "state:     committed") || !strings.Contains(out.String(), "installed: release-2") {
		t.Errorf("status text:\n%s", out.String())
	}
	if err := run(w.cliArgs("rollback")...); !errors.Is(err, ErrNoUpdate) {
		t.Errorf("rollback after commit: %v", err)
	}
	if err := run("frobnicate"); !errors.Is(err, cmdline.ErrUsage) {
		t.Errorf("unknown command: %v", err)
	}
	if err := run(w.cliArgs("install")...); !errors.Is(err, cmdline.ErrUsage) {
		t.Errorf("install without source: %v", err)
	}
	if err := run(w.cliArgs("install", "http://example.com/a.mender")...); err == nil || !strings.Contains(err.Error(), "only https") {
		t.Errorf("plain http: %v", err)
	}
}

func sha256Of(b []byte) [32]byte {
	var s [32]byte
	copy(s[:], sha256Sum(b))
	return s
}

// command runs "medagent update ARGS" offline, as the command line does.
func command(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("update", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := DefineOffline(fs)
	fs.BoolVar(&f.JSON, "json", false, "")
	pos, err := cmdline.ParseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	return f.Run(ctx, stdout, stderr, args[0], pos)
}

// TestCommandRebootRequestFails: an offline install whose reboot command
// fails says so (exit status, not success), leaves the trial boot armed
// for the agent's watchdog, and status shows the problem.
func TestCommandRebootRequestFails(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	payload := filepath.Join(w.dir, "release-2.mender")
	must(t, os.WriteFile(payload, w.newImg, 0o644))
	key := filepath.Join(w.dir, "key.pem")
	must(t, os.WriteFile(key, []byte("-----BEGIN PUBLIC KEY-----\n"), 0o644))
	defer func(old func(io.Reader, [][]byte, Verification, OpenRequest) (Artifact, error)) { openArtifact = old }(openArtifact)
	openArtifact = func(r io.Reader, _ [][]byte, _ Verification, req OpenRequest) (Artifact, error) {
		return fakeOpener("release-2", sha256Of(w.newImg), int64(len(w.newImg)), nil)(r, req)
	}
	var out, errb bytes.Buffer
	args := append(w.cliArgs("install", "--key", key, "--device-type", "bedside-v2", payload), "--reboot-cmd", "false")
	err := command(ctx, &out, &errb, args)
	if err == nil || !strings.Contains(err.Error(), "reboot request 1 of 3 failed") || !strings.Contains(err.Error(), "slot A") {
		t.Fatalf("install with a failing reboot command: %v", err)
	}
	if v := w.vars(); v["upgrade_available"] != "1" || v["mender_boot_part"] != "3" {
		t.Fatalf("env: %v", v)
	}
	out.Reset()
	must(t, command(ctx, &out, &errb, w.cliArgs("status")))
	if !strings.Contains(out.String(), "reboot:    requested 1 time(s)") || !strings.Contains(out.String(), "problem:   reboot request 1 of 3 failed") {
		t.Errorf("status:\n%s", out.String())
	}
}
