package remote

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"
	"time"

	"medagent/handoff"
	"medagent/trust/command"
	"medagent/update/engine"
)

// artifact takes an artifact item: it must serve an update command that
// acquire verified and that waits for it (or name a fleet deployment),
// and it is installed by the worker, one at a time. It closes in.
func (s *Service) artifact(ctx context.Context, in *handoff.Incoming) {
	m := in.Meta
	st := handoff.State{ID: m.ID, Kind: handoff.KindArtifact, Command: m.Command}
	var cmd *handoff.State
	if m.Command != "" {
		c, ok := s.c.Get(m.Command)
		if !ok || c.Kind != handoff.KindCommand || c.Phase != handoff.Fetch || c.Fetch == nil {
			in.Close()
			s.fail(st, fmt.Sprintf("names command item %q, which is not a verified update command waiting for its artifact", m.Command))
			return
		}
		cmd = &c
	}
	failBoth := func(reason string) {
		s.fail(st, reason)
		if cmd != nil {
			*cmd = s.fail(*cmd, reason)
			s.publish(ctx, s.result(*cmd, command.StatusFailed, reason))
		}
	}
	switch {
	case s.o.Updates == nil:
		in.Close()
		failBoth("updates are not enabled on this device (update.enabled)")
		return
	case m.Error != "":
		in.Close()
		failBoth("the uplink could not download the artifact: " + m.Error)
		return
	}
	// The digest that binds the artifact to the request: the signed
	// command's, from acquire's own state, never the item's claim.
	digest, downgrade := m.Digest, ""
	if cmd != nil {
		digest, downgrade = cmd.Fetch.Digest, cmd.Fetch.AllowDowngrade
	}
	s.mu.Lock()
	s.active[m.ID] = true
	s.mu.Unlock()
	err := s.queue(func(ctx context.Context) {
		defer in.Close()
		s.install(ctx, in, st, cmd, digest, downgrade)
		s.mu.Lock()
		delete(s.active, m.ID)
		s.mu.Unlock()
	})
	if err != nil {
		s.mu.Lock()
		delete(s.active, m.ID)
		s.mu.Unlock()
		in.Close()
		failBoth(err.Error())
	}
}

// progress moves the artifact item and its command to phase p and says
// so on cmd-result.
type progress struct {
	s   *Service
	ctx context.Context
	st  handoff.State
	cmd *handoff.State
}

func (p *progress) to(phase handoff.Phase, reason string) {
	p.st.Phase, p.st.Reason = phase, reason
	p.s.set(p.st)
	if p.cmd == nil {
		return
	}
	p.cmd.Phase, p.cmd.Reason, p.cmd.Fetch, p.cmd.Artifact = phase, reason, nil, p.st.Artifact
	p.s.set(*p.cmd)
	p.s.publish(p.ctx, p.s.result(*p.cmd, command.StatusAccepted, ""))
}

// end records the outcome on the item and its command.
func (p *progress) end(err error) {
	if err != nil {
		p.s.fail(p.st, err.Error())
		if p.cmd != nil {
			*p.cmd = p.s.fail(*p.cmd, err.Error())
			p.s.publish(p.ctx, p.s.result(*p.cmd, command.StatusFailed, err.Error()))
		}
		return
	}
	p.st.Phase, p.st.Reason = handoff.Success, ""
	p.s.set(p.st)
	if p.cmd != nil {
		p.cmd.Phase, p.cmd.Reason, p.cmd.Artifact = handoff.Success, "", p.st.Artifact
		p.s.set(*p.cmd)
		p.s.publish(p.ctx, p.s.result(*p.cmd, command.StatusDone, ""))
	}
}

// install checks the artifact's digest and hands it to the update engine,
// which verifies its signature with acquire's update keys, writes the
// inactive slot, arms the trial boot and reboots when the clinical-use
// lock allows. The outcome after the reboot is settled by watch.
func (s *Service) install(ctx context.Context, in *handoff.Incoming, st handoff.State, cmd *handoff.State, digest, downgrade string) {
	p := &progress{s: s, ctx: ctx, st: st, cmd: cmd}
	p.to(handoff.Verifying, "")
	f, err := in.OpenArtifact()
	if err != nil {
		p.end(err)
		return
	}
	defer f.Close()
	if digest != "" {
		if err := checkDigest(f, digest); err != nil {
			p.end(err)
			return
		}
	}
	p.to(handoff.Installing, "")
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() { s.follow(p, done) })
	var o engine.InstallOptions
	if downgrade != "" {
		// The signed command names the artifact (its digest, checked
		// above, and its artifact_name, checked by the engine).
		o.Downgrade = &engine.Downgrade{Artifact: downgrade}
	}
	var src io.Reader = f
	if digest != "" {
		// The uplink owns the file and could rewrite it after the check
		// above: the bytes the engine reads are hashed again as they pass,
		// and a difference fails the install before the slot is armed
		// (the artifact reader reads its input to the end first).
		src = &digestReader{r: f, h: sha256.New(), want: digest}
	}
	err = s.o.Updates.InstallWith(ctx, src, o)
	close(done)
	wg.Wait()
	if err != nil {
		if ctx.Err() != nil {
			return // the agent stops: watch settles it at the next start
		}
		p.end(fmt.Errorf("install: %w", err))
		return
	}
	es := s.o.Updates.Status()
	if es.Artifact != "" {
		p.st.Artifact = es.Artifact
	}
	reason := "trial boot requested; after it the agent's health checks commit or roll back"
	if es.RebootProblem != "" {
		// The request failed (the engine asks again and, when the reboot
		// never happens, restores the boot environment and fails).
		reason = "trial boot armed, but " + es.RebootProblem + "; the agent asks again after update.reboot_timeout and fails the update if the reboot never happens"
	}
	p.to(handoff.Rebooting, reason)
}

// follow reports the engine's progress (the artifact's name, a reboot held
// by the clinical-use lock) until done is closed.
func (s *Service) follow(p *progress, done <-chan struct{}) {
	t := time.NewTicker(followEvery)
	defer t.Stop()
	pending := ""
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		es := s.o.Updates.Status()
		if es.Artifact != "" && p.st.Artifact == "" {
			p.st.Artifact = es.Artifact
			s.set(p.st)
		}
		if es.RebootPending && es.PendingReason != pending {
			pending = es.PendingReason
			p.to(handoff.RebootPending, "reboot held: "+pending)
		}
	}
}

// followEvery is how often follow looks at the engine.
var followEvery = time.Second

// checkDigest reads f to its end, compares its SHA-256 with want
// ("sha256:<hex>") and rewinds it.
func checkDigest(f *os.File, want string) error {
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("read artifact: %w", err)
	}
	if got := fmt.Sprintf("sha256:%x", h.Sum(nil)); got != want {
		return fmt.Errorf("artifact digest %s differs from the %s the update asked for", got, want)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind artifact: %w", err)
	}
	return nil
}

// digestReader hashes what passes and, at the end of its input, returns an
// error instead of io.EOF when the digest differs from want.
type digestReader struct {
	r    io.Reader
	h    hash.Hash
	want string
}

func (d *digestReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.h.Write(p[:n])
	if err == io.EOF {
		if got := fmt.Sprintf("sha256:%x", d.h.Sum(nil)); got != d.want {
			return n, fmt.Errorf("artifact changed while it was installed: digest %s, the update asked for %s", got, d.want)
		}
	}
	return n, err
}

// settleUpdates finishes artifact items a restart interrupted, once the
// update engine's Resume has decided (journal in a final state): after the
// trial boot that is commit (success) or rollback (failure with why).
// Items still being worked on in this process are left alone. It returns
// whether items wait for the engine.
func (s *Service) settleUpdates(ctx context.Context) bool {
	waiting := false
	for _, st := range s.c.States() {
		if st.Kind != handoff.KindArtifact || st.Phase.Final() {
			continue
		}
		s.mu.Lock()
		busy := s.active[st.ID]
		s.mu.Unlock()
		if busy {
			continue
		}
		var cmd *handoff.State
		if c, ok := s.c.Get(st.Command); ok && st.Command != "" && !c.Phase.Final() {
			cmd = &c
		}
		p := &progress{s: s, ctx: ctx, st: st, cmd: cmd}
		switch st.Phase {
		case handoff.Received, handoff.Verifying:
			p.end(errors.New("interrupted by an agent restart before the install began; send the update again"))
			continue
		}
		if s.o.Updates == nil {
			p.end(errors.New("updates are no longer enabled (update.enabled)"))
			continue
		}
		es := s.o.Updates.Status()
		if !es.JournalState.Terminal() {
			waiting = true
			continue
		}
		switch {
		case st.Artifact == "" || es.Artifact != st.Artifact:
			p.end(fmt.Errorf("interrupted by an agent restart (the update engine's last update is %q, state %s)", es.Artifact, es.JournalState))
		case es.JournalState == engine.StateCommitted:
			p.end(nil)
		case es.JournalState == engine.StateRolledBack:
			p.end(fmt.Errorf("rolled back: %s", es.Reason))
		default:
			p.end(fmt.Errorf("update %s: %s", es.JournalState, es.Reason))
		}
	}
	return waiting
}
