package engine

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeScript(t *testing.T, dir, name, body string) {
	t.Helper()
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755))
}

func TestScriptOrderAndNames(t *testing.T) {
	w := newWorld(t)
	dir := filepath.Join(w.dir, "scripts")
	log := filepath.Join(w.dir, "script.log")
	for _, n := range []string{"Download_Enter_10_b", "Download_Enter_02", "Download_Enter_10_a", "Download_Leave_01",
		"ArtifactInstall_Enter_01", "ArtifactInstall_Leave_01", "ArtifactReboot_Enter_01", "ArtifactReboot_Leave_01",
		"ArtifactCommit_Enter_01", "ArtifactCommit_Leave_01", "ArtifactRollback_Enter_01", "Download_Enter_1_bad"} {
		writeScript(t, dir, n, "echo "+n+" >> "+log)
	}
	must(t, os.WriteFile(filepath.Join(dir, "README"), []byte("not a script"), 0o644))
	ctx := context.Background()
	mod := func(o *Options) { o.ScriptsDir = dir }
	must(t, w.engine(mod).Install(ctx, w.src()))
	w.boot()
	must(t, w.engine(mod).Resume(ctx))
	b, _ := os.ReadFile(log)
	want := "Download_Enter_02 Download_Enter_10_a Download_Enter_10_b Download_Leave_01 ArtifactInstall_Enter_01 " +
		"ArtifactInstall_Leave_01 ArtifactReboot_Enter_01 ArtifactReboot_Leave_01 ArtifactCommit_Enter_01 ArtifactCommit_Leave_01"
	if got := strings.Join(strings.Fields(string(b)), " "); got != want {
		t.Errorf("scripts ran:\n%s\nwant\n%s", got, want)
	}
}

func TestScriptExitCodes(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		script string
		body   string
		opts   func(*Options)
		ok     bool
		reason string
		runs   int
	}{
		{name: "exit 0", script: "ArtifactInstall_Enter_01", body: "exit 0", ok: true, runs: 1},
		{name: "exit 1 fails", script: "ArtifactInstall_Enter_01", body: "exit 1", reason: "exited 1", runs: 1},
		{name: "exit 21 then 0", script: "ArtifactInstall_Enter_01",
			body: `n=$(cat "$0.count"); [ "$n" -ge 2 ] && exit 0; exit 21`, ok: true, runs: 2},
		{name: "exit 21 forever", script: "ArtifactInstall_Enter_01", body: "exit 21",
			// 2 s of retries every 50 ms: at least two runs even when one
			// run of sh takes over 200 ms on a loaded machine.
			opts: func(o *Options) { o.ScriptRetryTimeout = 2 * time.Second }, reason: "retry later", runs: -2},
		{name: "timeout", script: "ArtifactInstall_Enter_01", body: "sleep 30",
			opts: func(o *Options) { o.ScriptTimeout = 300 * time.Millisecond }, reason: "timed out after 300ms", runs: 1},
		{name: "not executable", script: "ArtifactInstall_Enter_01", body: "", reason: "not an executable", runs: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			dir := filepath.Join(w.dir, "scripts")
			p := filepath.Join(dir, tc.script)
			// Every run appends to $0.count's line count first.
			writeScript(t, dir, tc.script, `echo x >> "$0.runs"; wc -l < "$0.runs" > "$0.count"; `+tc.body)
			if tc.name == "not executable" {
				must(t, os.Chmod(p, 0o644))
			}
			slotB, _ := os.ReadFile(w.slots.B.Device)
			e := w.engine(func(o *Options) {
				o.ScriptsDir = dir
				o.ScriptRetryInterval = 50 * time.Millisecond
				if tc.opts != nil {
					tc.opts(o)
				}
			})
			start := time.Now()
			err := e.Install(ctx, w.src())
			if tc.ok {
				must(t, err)
			} else {
				if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), tc.reason) {
					t.Fatalf("err = %v, want ErrFailed with %q", err, tc.reason)
				}
				// The script ran before the payload: nothing changed.
				if after, _ := os.ReadFile(w.slots.B.Device); !bytes.Equal(after, slotB) {
					t.Error("slot written although ArtifactInstall_Enter failed")
				}
				if w.vars()["upgrade_available"] != "0" {
					t.Error("trial boot armed")
				}
			}
			runs, _ := os.ReadFile(p + ".runs")
			n := strings.Count(string(runs), "x")
			if tc.runs < 0 && n < -tc.runs || tc.runs >= 0 && n != tc.runs {
				t.Errorf("script ran %d times, want %d (negative: at least)", n, tc.runs)
			}
			if tc.name == "timeout" && time.Since(start) > 10*time.Second {
				t.Error("timeout did not kill the script")
			}
		})
	}
}

// TestCommitScriptFailureRollsBack: a failing ArtifactCommit_Enter script
// rolls the update back.
func TestCommitScriptFailureRollsBack(t *testing.T) {
	w := newWorld(t)
	dir := filepath.Join(w.dir, "scripts")
	writeScript(t, dir, "ArtifactCommit_Enter_50_app", "echo app not ready >&2; exit 1")
	writeScript(t, dir, "ArtifactCommit_Error_01", "touch "+filepath.Join(w.dir, "commit-error-ran"))
	ctx := context.Background()
	mod := func(o *Options) { o.ScriptsDir = dir }
	must(t, w.engine(mod).Install(ctx, w.src()))
	w.boot()
	e := w.engine(mod)
	must(t, e.Resume(ctx))
	if st := e.Status(); st.State != StateRollbackBoot || !strings.Contains(st.Reason, "app not ready") {
		t.Fatalf("status %+v", st)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "commit-error-ran")); err != nil {
		t.Error("ArtifactCommit_Error script did not run")
	}
	if s := w.boot(); s.Name != "A" {
		t.Fatalf("booted %s", s.Name)
	}
	if err := w.engine(mod).Resume(ctx); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("err = %v", err)
	}
}

func TestHealthCommandTimeout(t *testing.T) {
	err := runCheck(context.Background(), CommandCheck("slow", 200*time.Millisecond, "sleep", "30"))
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("err = %v", err)
	}
	err = runCheck(context.Background(), CommandCheck("false", 0, "sh", "-c", "echo broken >&2; exit 3"))
	if err == nil || !strings.Contains(err.Error(), "exit status 3: broken") {
		t.Errorf("err = %v", err)
	}
	lazy := Check{Name: "ignores ctx", Timeout: 50 * time.Millisecond, Func: func(context.Context) error {
		time.Sleep(100 * time.Millisecond)
		return nil
	}}
	if err := runCheck(context.Background(), lazy); err == nil {
		t.Error("hook that overran its deadline passed")
	}
}
