package remote

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"medagent/handoff"
	"medagent/trust/command"
	"medagent/update/engine"
)

// engineFake installs by reading everything; a test sets what Status says.
type engineFake struct {
	mu      sync.Mutex
	st      engine.Status
	got     []byte
	opts    engine.InstallOptions
	pending chan struct{} // when set, Install reports reboot-pending until closed
	err     error
	before  func(r io.Reader) // called with the source before it is read
}

func (e *engineFake) InstallWith(ctx context.Context, r io.Reader, o engine.InstallOptions) error {
	if e.before != nil {
		e.before(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.opts = o
	e.got, e.st.Artifact, e.st.JournalState = b, "release-2", engine.StateInstall
	pending, ierr := e.pending, e.err
	if pending != nil {
		e.st.RebootPending, e.st.PendingReason = true, "patient monitored"
	}
	e.mu.Unlock()
	if ierr != nil {
		return ierr
	}
	if pending != nil {
		<-pending
	}
	e.mu.Lock()
	e.st.RebootPending, e.st.PendingReason, e.st.JournalState = false, "", engine.StateReboot
	e.mu.Unlock()
	return nil
}

func (e *engineFake) Status() engine.Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.st
}

func (e *engineFake) set(s engine.State, reason string) {
	e.mu.Lock()
	e.st.JournalState, e.st.Reason = s, reason
	e.mu.Unlock()
}

// waitPhase waits until item id reaches phase.
func waitPhase(t *testing.T, r *rig, id string, phase handoff.Phase) handoff.State {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := r.p.State(id)
		if err == nil && st.Phase == phase {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("item %s: %+v, %v; want phase %s", id, st, err, phase)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// updateRig verifies a signed update command for blob and hands over the
// artifact as the fetcher would; it returns the command and artifact ids.
func updateRig(t *testing.T, eng *engineFake, blob []byte, digestOf []byte) (*rig, string, string) {
	t.Helper()
	r := newRig(t, func(o *Options) { o.Updates = eng })
	followEvery = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.s.worker(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	digest := fmt.Sprintf("sha256:%x", sha256.Sum256(digestOf))
	cmd := r.submit(t, r.cmd(t, command.Update, map[string]string{"url": "https://fleet.example/r2.mender", "digest": digest}))
	if cmd.Phase != handoff.Fetch {
		t.Fatalf("update command: %+v", cmd)
	}
	f := filepath.Join(r.p.WorkDir(), "dl")
	os.WriteFile(f, blob, 0o640)
	// The producer's claim of the digest is not what counts.
	art, err := r.p.Submit(context.Background(), handoff.Item{Kind: handoff.KindArtifact, File: f, Command: cmd.ID,
		Digest: fmt.Sprintf("sha256:%x", sha256.Sum256(blob))})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.s.c.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r, cmd.ID, art
}

// waitResult waits for a spooled result with status and returns it.
func waitResult(t *testing.T, r *rig, status string) command.Result {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, res := range r.spool.results(t) {
			if res.Status == status {
				return res
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s result; spooled: %s", status, phases(r.spool.results(t)))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func phases(res []command.Result) string {
	var out []string
	for _, r := range res {
		out = append(out, r.Status+"/"+r.Phase)
	}
	return strings.Join(out, " ")
}

// The acquire side of a fleet update: the digest the signed command named,
// the install (reboot held while a patient is monitored), the trial boot
// and, after the restart, the engine's decision on cmd-result.
func TestUpdateFromCommand(t *testing.T) {
	blob := []byte("a mender artifact")
	eng := &engineFake{pending: make(chan struct{})}
	r, cmd, art := updateRig(t, eng, blob, blob)
	waitPhase(t, r, cmd, handoff.RebootPending)
	close(eng.pending)
	st := waitPhase(t, r, cmd, handoff.Rebooting)
	if string(eng.got) != string(blob) || st.Artifact != "release-2" {
		t.Errorf("engine got %q, state %+v", eng.got, st)
	}
	// The reboot: a new process finds the items under way and waits for
	// the engine's Resume (health checks, commit) before it says done.
	eng.set(engine.StateHealth, "")
	r.open(t)
	if !r.s.settleUpdates(context.Background()) {
		t.Error("settled while the engine was still checking the new slot")
	}
	eng.set(engine.StateCommitted, "")
	r.s.settleUpdates(context.Background())
	waitPhase(t, r, cmd, handoff.Success)
	waitPhase(t, r, art, handoff.Success)
	waitResult(t, r, command.StatusDone)
	want := "accepted/fetch accepted/verifying accepted/installing accepted/reboot-pending accepted/rebooting done/"
	if got := phases(r.spool.results(t)); got != want {
		t.Errorf("results %s\nwant    %s", got, want)
	}
}

func TestUpdateFailures(t *testing.T) {
	blob := []byte("a mender artifact")
	t.Run("digest differs from the command's", func(t *testing.T) {
		eng := &engineFake{}
		r, cmd, _ := updateRig(t, eng, blob, []byte("another artifact"))
		st := waitPhase(t, r, cmd, handoff.Failure)
		if !strings.Contains(st.Reason, "digest") || eng.got != nil {
			t.Errorf("state %+v, engine got %d bytes", st, len(eng.got))
		}
	})
	t.Run("artifact rewritten by the uplink after the digest check", func(t *testing.T) {
		// The uplink owns the file: it swaps in another (validly signed,
		// say) artifact of the same size once acquire has checked it.
		eng := &engineFake{before: func(r io.Reader) {
			f := r.(*digestReader).r.(*os.File)
			if err := os.WriteFile(f.Name(), []byte("another artifact!"), 0o640); err != nil {
				t.Error(err)
			}
		}}
		r, cmd, _ := updateRig(t, eng, blob, blob)
		st := waitPhase(t, r, cmd, handoff.Failure)
		if !strings.Contains(st.Reason, "artifact changed while it was installed") || eng.got != nil {
			t.Errorf("state %+v, engine got %q", st, eng.got)
		}
	})
	t.Run("signature refused by the engine", func(t *testing.T) {
		eng := &engineFake{err: errors.New("artifact refused: bad signature")}
		r, cmd, _ := updateRig(t, eng, blob, blob)
		if st := waitPhase(t, r, cmd, handoff.Failure); !strings.Contains(st.Reason, "signature") {
			t.Errorf("state %+v", st)
		}
		// The state is saved before the result is spooled.
		if last := waitResult(t, r, command.StatusFailed); !strings.Contains(last.Error, "signature") {
			t.Errorf("last result %+v", last)
		}
	})
	t.Run("rolled back after the trial boot", func(t *testing.T) {
		eng := &engineFake{}
		r, cmd, _ := updateRig(t, eng, blob, blob)
		waitPhase(t, r, cmd, handoff.Rebooting)
		eng.set(engine.StateRolledBack, `health check "broker reachable": not connected`)
		r.open(t)
		r.s.settleUpdates(context.Background())
		if st := waitPhase(t, r, cmd, handoff.Failure); !strings.Contains(st.Reason, "rolled back") || !strings.Contains(st.Reason, "broker") {
			t.Errorf("state %+v", st)
		}
	})
	t.Run("reboot request failed, then never happened", func(t *testing.T) {
		eng := &engineFake{}
		eng.st.RebootProblem = "reboot request 1 of 3 failed: exit status 1"
		r, cmd, _ := updateRig(t, eng, blob, blob)
		if st := waitPhase(t, r, cmd, handoff.Rebooting); !strings.Contains(st.Reason, "reboot request 1 of 3 failed") {
			t.Errorf("rebooting without the failed request: %+v", st)
		}
		eng.set(engine.StateFailed, "reboot: reboot into slot B did not happen within 5m0s of request 3 of 3: giving up; the trial boot is disarmed (boot environment back to slot A)")
		r.s.settleUpdates(context.Background())
		if st := waitPhase(t, r, cmd, handoff.Failure); !strings.Contains(st.Reason, "did not happen") || !strings.Contains(st.Reason, "back to slot A") {
			t.Errorf("state %+v", st)
		}
		if last := waitResult(t, r, command.StatusFailed); !strings.Contains(last.Error, "did not happen") {
			t.Errorf("cmd-result %+v", last)
		}
	})
	t.Run("download failed in the uplink", func(t *testing.T) {
		r := newRig(t, func(o *Options) { o.Updates = &engineFake{} })
		cmd := r.submit(t, r.cmd(t, command.Update, map[string]string{"url": "https://f/a", "digest": "sha256:" + strings.Repeat("1b", 32)}))
		r.p.Submit(context.Background(), handoff.Item{Kind: handoff.KindArtifact, Command: cmd.ID, Error: "HTTP 404 Not Found"})
		r.s.c.Scan(context.Background())
		if st, _ := r.p.State(cmd.ID); st.Phase != handoff.Failure || !strings.Contains(st.Reason, "404") {
			t.Errorf("state %+v", st)
		}
	})
	t.Run("artifact for a command that asked for none", func(t *testing.T) {
		r := newRig(t, func(o *Options) { o.Updates = &engineFake{} })
		diag := r.submit(t, r.cmd(t, command.Diagnostics, nil))
		f := filepath.Join(r.p.WorkDir(), "dl")
		os.WriteFile(f, blob, 0o640)
		id, _ := r.p.Submit(context.Background(), handoff.Item{Kind: handoff.KindArtifact, File: f, Command: diag.ID})
		r.s.c.Scan(context.Background())
		if st, _ := r.p.State(id); st.Phase != handoff.Failure || !strings.Contains(st.Reason, "not a verified update command") {
			t.Errorf("state %+v", st)
		}
	})
}

// An artifact of a fleet deployment (the Mender client, no signed command)
// is installed on its own signature, with the digest the item names
// checked; the phases are what the client reports to its server.
func TestUpdateFromDeployment(t *testing.T) {
	blob := []byte("deployment artifact")
	eng := &engineFake{}
	r := newRig(t, func(o *Options) { o.Updates = eng })
	followEvery = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.s.worker(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	submit := func(digestOf []byte) string {
		f := filepath.Join(r.p.WorkDir(), "dl")
		os.WriteFile(f, blob, 0o640)
		id, err := r.p.Submit(context.Background(), handoff.Item{Kind: handoff.KindArtifact, File: f, Deployment: "dep-1",
			Digest: fmt.Sprintf("sha256:%x", sha256.Sum256(digestOf))})
		if err != nil {
			t.Fatal(err)
		}
		r.s.c.Scan(context.Background())
		return id
	}
	bad := submit([]byte("other"))
	if st := waitPhase(t, r, bad, handoff.Failure); !strings.Contains(st.Reason, "digest") {
		t.Errorf("wrong digest: %+v", st)
	}
	id := submit(blob)
	waitPhase(t, r, id, handoff.Rebooting)
	eng.set(engine.StateCommitted, "")
	r.open(t)
	r.s.settleUpdates(context.Background())
	waitPhase(t, r, id, handoff.Success)
	if len(r.spool.results(t)) != 0 {
		t.Error("a deployment without a command spooled command results")
	}
}

// TestSignedDowngradePermission: a signed update command's
// allow_downgrade (the artifact_name, with the command's digest naming the
// exact artifact) reaches the engine as its downgrade permission; without
// it the engine gets none, and a malformed one is refused.
func TestSignedDowngradePermission(t *testing.T) {
	for _, tc := range []struct {
		name, arg string
		want      *engine.Downgrade
		refused   bool
	}{
		{"no permission", "", nil, false},
		{"permission", "release-1.0", &engine.Downgrade{Artifact: "release-1.0"}, false},
		{"control character", "rel\x1b", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng := &engineFake{}
			r := newRig(t, func(o *Options) { o.Updates = eng })
			followEvery = 10 * time.Millisecond
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { r.s.worker(ctx); close(done) }()
			defer func() { cancel(); <-done }()
			blob := []byte("artifact bytes")
			args := map[string]string{"url": "https://fleet.example/r1.mender", "digest": fmt.Sprintf("sha256:%x", sha256.Sum256(blob))}
			if tc.arg != "" {
				args["allow_downgrade"] = tc.arg
			}
			cmd := r.submit(t, r.cmd(t, command.Update, args))
			if tc.refused {
				if cmd.Phase != handoff.Failure || !strings.Contains(cmd.Reason, "allow_downgrade") {
					t.Fatalf("command %+v", cmd)
				}
				return
			}
			f := filepath.Join(r.p.WorkDir(), "dl")
			os.WriteFile(f, blob, 0o640)
			art, err := r.p.Submit(context.Background(), handoff.Item{Kind: handoff.KindArtifact, File: f, Command: cmd.ID, Digest: args["digest"]})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.s.c.Scan(context.Background()); err != nil {
				t.Fatal(err)
			}
			waitPhase(t, r, art, handoff.Rebooting)
			eng.mu.Lock()
			got := eng.opts.Downgrade
			eng.mu.Unlock()
			if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
				t.Errorf("downgrade %+v, want %+v", got, tc.want)
			}
		})
	}
}
