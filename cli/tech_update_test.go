package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
