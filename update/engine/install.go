package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"medagent/update/artifact"
	"medagent/update/slot"
)

// RootfsType is the only payload type the A/B engine installs.
const RootfsType = "rootfs-image"

// Install runs an update from src up to the reboot request: open and verify
// the artifact, stream its rootfs payload into the inactive slot, verify it,
// arm the trial boot and reboot (after the clinical-use lock allows it).
// It returns nil once the reboot was requested; Resume continues after it.
func (e *Engine) Install(ctx context.Context, src io.Reader) error {
	return e.InstallWith(ctx, src, InstallOptions{})
}

// InstallWith is Install with options (a signed downgrade permission).
func (e *Engine) InstallWith(ctx context.Context, src io.Reader, o InstallOptions) error {
	unlock, err := e.tryOp()
	if err != nil {
		return err
	}
	defer unlock()
	if err := e.begin("", o); err != nil {
		return err
	}
	return e.run(ctx, func(context.Context) (io.Reader, func(), error) { return src, func() {}, nil })
}

// InstallURL is Install from an https URL with Options.HTTPClient (the
// update server's trust anchors, see update/source). With
// Options.DownloadDir it is downloaded there first so that the download
// survives restarts: an interrupted InstallURL (context canceled, agent
// stopped, power cut) leaves the journal in the download state and Resume
// continues the download with a Range request from its last checkpoint.
// Without DownloadDir the artifact is streamed (broken connections resume,
// restarts do not). Either way the download is bounded: by the slot size
// until the artifact's signed header is in, then by the size that header
// declares (its chunk list), and a header that fails verification stops
// the download at once.
func (e *Engine) InstallURL(ctx context.Context, url string) error {
	return e.InstallURLWith(ctx, url, InstallOptions{})
}

// InstallURLWith is InstallURL with options (a signed downgrade permission).
func (e *Engine) InstallURLWith(ctx context.Context, url string, o InstallOptions) error {
	if !strings.HasPrefix(url, "https://") {
		return fmt.Errorf("engine: %q: only https URLs are installed", url)
	}
	unlock, err := e.tryOp()
	if err != nil {
		return err
	}
	defer unlock()
	if e.o.DownloadDir == "" {
		if err := e.begin("", o); err != nil {
			return err
		}
		return e.run(ctx, e.streamSource(url))
	}
	if err := e.begin(url, o); err != nil {
		return err
	}
	return e.run(ctx, e.fetchSource)
}

// downloadBound is the most an artifact for a slot of capa bytes may be:
// the payload with compression's worst-case growth, plus the header.
func downloadBound(payload int64) int64 { return payload + payload/64 + MaxHeaderBytes }

// streamSource streams url (no restart resume), bounded by the slot.
func (e *Engine) streamSource(url string) sourceFunc {
	return func(ctx context.Context) (io.Reader, func(), error) {
		_, to, err := e.slots()
		if err != nil {
			return nil, nil, err
		}
		capa, err := slot.Capacity(to.Device)
		if err != nil {
			return nil, nil, fmt.Errorf("slot %s: %w", to.Name, err)
		}
		d := NewDownload(ctx, e.o.HTTPClient, url)
		d.MaxBytes = downloadBound(capa)
		return d, func() { d.Close() }, nil
	}
}

// headerBound is FetchOptions.Bound: it verifies the artifact's header as
// soon as it is downloaded and bounds the rest by what it declares.
func (e *Engine) headerBound(capa int64) func(io.Reader) (int64, error) {
	return func(prefix io.Reader) (int64, error) {
		art, err := e.o.Open(prefix, OpenRequest{Installed: maps.Clone(e.journal().Installed), MaxPayloadSize: capa})
		switch {
		case errors.Is(err, artifact.ErrTruncated):
			return 0, nil // not all in yet
		case err != nil:
			return 0, fmt.Errorf("artifact refused while downloading: %w", err)
		}
		if n := art.Header().PayloadSize; n > 0 {
			return downloadBound(n), nil
		}
		return -1, nil
	}
}

// begin starts a new update in the journal (in memory; the first enter
// saves it).
func (e *Engine) begin(url string, o InstallOptions) error {
	if j := e.journal(); !j.State.Terminal() {
		return fmt.Errorf("%w (state %s, artifact %q): finish it with Resume, Commit or Rollback", ErrInProgress, j.State, j.Artifact)
	}
	e.force.Store(false)
	bs, err := e.readBootState()
	if err != nil {
		return err
	}
	if bs.upgrading {
		return fmt.Errorf("%w: boot environment has upgrade_available=1 but the journal is idle; run rollback or commit first", ErrInProgress)
	}
	from := bs.running
	if bs.part != "" && bs.part != from.Part {
		// The boot environment boots the other slot next: a rollback
		// whose reboot has not happened yet (it gave up, see
		// AwaitReboot). Installing now would overwrite the slot the
		// device boots next, the committed one.
		return fmt.Errorf("%w: running slot %s but the boot environment boots mender_boot_part=%s next (a pending reboot into it never happened): reboot first", ErrInProgress, from.Name, bs.part)
	}
	to := e.o.Slots.Other(from)
	e.update(func(j *Journal) {
		installed := j.Installed
		*j = Journal{
			Version: JournalVersion, Installed: installed, URL: url,
			FromSlot: from.Name, FromPart: from.Part, ToSlot: to.Name, ToPart: to.Part,
			StartedAt: e.o.Now().UTC(), Downgrade: o.Downgrade,
		}
		e.written = 0
	})
	return nil
}

// sourceFunc opens the artifact stream; the returned func releases it.
type sourceFunc func(ctx context.Context) (io.Reader, func(), error)

// errSuspended: the download stopped with the context; Resume continues it.
var errSuspended = errors.New("engine: download suspended")

func (e *Engine) run(ctx context.Context, open sourceFunc) error {
	_, to, err := e.slots()
	if err != nil {
		return err
	}
	if err := e.preArm(ctx, open, to); err != nil {
		if errors.Is(err, errSuspended) {
			return err
		}
		return e.fail(ctx, e.invalidateIfWritten(to, err.Error()))
	}
	return e.armAndReboot(ctx)
}

// invalidateIfWritten makes the target slot unbootable when the update
// may have written it (states install and verify, once the signed digest
// was journaled just before the first write) and returns reason with what
// was done: a failed install leaves nothing bootable behind.
func (e *Engine) invalidateIfWritten(to slot.Slot, reason string) string {
	j := e.journal()
	switch {
	case j.State != StateInstall && j.State != StateVerify:
		return reason
	case j.Digest == "":
		return reason // failed before the first write: the slot is as it was
	}
	return e.invalidate(to, reason)
}

// invalidate wipes the start of the slot (every root file system keeps its
// superblock there) so that no boot loader or fallback can boot what a
// failed install left, and says so in the returned reason.
func (e *Engine) invalidate(to slot.Slot, reason string) string {
	if err := slot.Invalidate(to.Device); err != nil {
		e.log.Error("invalidating the inactive slot failed", "slot", to.Name, "err", err)
		return fmt.Sprintf("%s; invalidating slot %s FAILED: %v", reason, to.Name, err)
	}
	e.log.Warn("inactive slot invalidated", "slot", to.Name, "reason", reason)
	return fmt.Sprintf("%s; slot %s invalidated (first %d bytes wiped)", reason, to.Name, slot.InvalidateBytes)
}

// fetchSource downloads the journal's URL into DownloadDir (resuming a
// previous attempt) and opens the file.
func (e *Engine) fetchSource(ctx context.Context) (io.Reader, func(), error) {
	url := e.journal().URL
	dst := filepath.Join(e.o.DownloadDir, "update.mender")
	state := filepath.Join(e.o.DownloadDir, "update.fetch")
	_, to, err := e.slots()
	if err != nil {
		return nil, nil, err
	}
	capa, err := slot.Capacity(to.Device)
	if err != nil {
		return nil, nil, fmt.Errorf("slot %s: %w", to.Name, err)
	}
	fo := FetchOptions{Client: e.o.HTTPClient, CheckpointEvery: e.o.CheckpointEvery,
		MaxBytes: downloadBound(capa), Bound: e.headerBound(capa)}
	if _, err := Fetch(ctx, url, dst, state, fo); err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("%w: %w", errSuspended, err)
		}
		return nil, nil, err
	}
	f, err := os.Open(dst)
	if err != nil {
		return nil, nil, fmt.Errorf("engine: %w", err)
	}
	return f, func() { f.Close(); os.Remove(dst) }, nil
}

// preArm runs download, install and verify. Nothing it does can change
// what the device boots.
func (e *Engine) preArm(ctx context.Context, open sourceFunc, to slot.Slot) error {
	if err := e.enter(StateDownload, ""); err != nil {
		return err
	}
	if err := e.scripts(ctx, StateDownload, "Enter"); err != nil {
		return err
	}
	src, release, err := open(ctx)
	if err != nil {
		return err
	}
	defer release()
	capa, err := slot.Capacity(to.Device)
	if err != nil {
		return fmt.Errorf("slot %s: %w", to.Name, err)
	}
	installed := maps.Clone(e.journal().Installed)
	art, err := e.o.Open(src, OpenRequest{Installed: installed, MaxPayloadSize: capa})
	if err != nil {
		return fmt.Errorf("artifact refused: %w", err)
	}
	h := art.Header()
	if h.Type != RootfsType {
		return fmt.Errorf("artifact %q has payload type %q, want %q", h.Name, h.Type, RootfsType)
	}
	if h.Name == "" {
		return errors.New("artifact has no name")
	}
	if err := refuseScripts(h); err != nil {
		return err
	}
	version, err := e.checkFloor(h.Name, h.Provides, e.journal().Downgrade)
	if err != nil {
		return fmt.Errorf("artifact refused: %w", err)
	}
	e.update(func(j *Journal) {
		j.Artifact, j.Provides, j.Clears = h.Name, maps.Clone(h.Provides), h.ClearsProvides
		j.ArtifactVersion = version
	})
	source := "stream"
	if u := e.journal().URL; u != "" {
		source = u
	}
	f := map[string]string{"artifact": h.Name, "version": version, "key_id": h.KeyID, "source": source}
	if dg := e.journal().Downgrade; dg != nil {
		f["downgrade_allowed"] = dg.Artifact
	}
	e.audit("update.started", f)
	if err := e.scripts(ctx, StateDownload, "Leave"); err != nil {
		return err
	}

	if err := e.enter(StateInstall, ""); err != nil {
		return err
	}
	if err := e.scripts(ctx, StateInstall, "Enter"); err != nil {
		return err
	}
	p, err := art.Next()
	if err != nil {
		return fmt.Errorf("artifact payload: %w", err)
	}
	if len(p.SHA256) != sha256.Size {
		return fmt.Errorf("artifact payload %q has no signed digest", p.Name)
	}
	if dg := e.journal().Downgrade; dg != nil && dg.PayloadSHA256 != "" && dg.PayloadSHA256 != hex.EncodeToString(p.SHA256) {
		return fmt.Errorf("artifact refused: the signed downgrade names payload sha256 %s, this payload is %x: %w", dg.PayloadSHA256, p.SHA256, ErrBelowFloor)
	}
	// The signed digest is journaled before the first byte is written:
	// whatever happens later, the slot is hashed against it before arming.
	e.update(func(j *Journal) { j.Size, j.Digest, j.Chunked = p.Size, hex.EncodeToString(p.SHA256), p.Chunked })
	if err := e.save(); err != nil {
		return err
	}
	// The payload reader verifies the stream against its signed digest
	// (chunk by chunk before handing bytes out when the artifact has a
	// chunk list, else at its EOF: the Payload contract), so the writer does
	// not hash it again; it compares every byte on the media with what it
	// wrote. Together that is the slot hashed against the signed digest.
	// A decoder with a large window (xz, zstd: up to update.max_window)
	// leaves less room for the writer's buffers in flight (two windows and
	// two chunks): 256 KiB chunks in a 512 KiB window (1.75 MiB in all,
	// 5 MiB by default) keep the install within its memory bound.
	flush, chunk := e.o.FlushEvery, int64(0)
	if flush == 0 && (p.Compression == artifact.CompressionXZ || p.Compression == artifact.CompressionZstd) {
		flush, chunk = largeWindowFlush, largeWindowChunk
	}
	w := &slot.Writer{FlushEvery: flush, ChunkSize: chunk, Verified: true, Progress: func(n int64) {
		e.mu.Lock()
		e.written = n
		e.mu.Unlock()
		if e.o.Progress != nil {
			e.o.Progress(n, p.Size)
		}
	}}
	restore := limitMemory(e.o.InstallGCPercent)
	_, err = w.Write(ctx, to.Device, &crashReader{r: p.R, crash: e.crash}, p.Size)
	restore()
	if err != nil {
		return fmt.Errorf("install into slot %s: %w", to.Name, err)
	}
	if _, err := art.Next(); err == nil {
		return errors.New("artifact has more than one payload; a rootfs update has exactly one")
	} else if !errors.Is(err, io.EOF) {
		return fmt.Errorf("artifact after payload: %w", err)
	}

	signed := hex.EncodeToString(p.SHA256)
	if err := e.enter(StateVerify, "sha256 "+signed); err != nil {
		return err
	}
	e.mu.Lock()
	e.fresh = signed
	e.mu.Unlock()
	return nil
}

// largeWindowFlush and largeWindowChunk are the slot writer's window and
// chunk size for payloads whose decoder holds a large window of its own.
const (
	largeWindowFlush = 512 << 10
	largeWindowChunk = 256 << 10
)

// ErrSlotDigest: the slot does not hold what the signed manifest says.
var ErrSlotDigest = errors.New("slot content differs from the signed digest")

// checkSlot hashes the target slot against the signed digest in the
// journal, unless this process verified exactly that digest just now.
// Nothing is armed on the journal's word alone.
func (e *Engine) checkSlot(ctx context.Context, to slot.Slot) error {
	j := e.journal()
	e.mu.Lock()
	fresh := e.fresh
	e.fresh = ""
	e.mu.Unlock()
	if j.Digest == "" || j.Size <= 0 {
		return fmt.Errorf("journal names no signed digest for slot %s: %w", to.Name, ErrSlotDigest)
	}
	if fresh == j.Digest {
		return nil
	}
	got, err := slot.ReadBack(to.Device, j.Size)
	if err != nil {
		return fmt.Errorf("re-hash slot %s: %w", to.Name, err)
	}
	if got.String() != j.Digest {
		return fmt.Errorf("slot %s holds %s, the signed manifest says %s: %w", to.Name, got, j.Digest, ErrSlotDigest)
	}
	return ctx.Err()
}

// armAndReboot arms the trial boot of the new slot and reboots into it.
// The slot is hashed against the signed digest first, whatever the journal
// says; a slot that differs is invalidated and nothing is armed.
func (e *Engine) armAndReboot(ctx context.Context) error {
	from, to, err := e.slots()
	if err != nil {
		return err
	}
	j := e.journal()
	if _, err := e.checkFloor(j.Artifact, j.Provides, j.Downgrade); err != nil {
		return e.failRestoring(ctx, from, "arm: "+err.Error())
	}
	if err := e.checkSlot(ctx, to); err != nil {
		reason := err.Error()
		if errors.Is(err, ErrSlotDigest) {
			reason = e.invalidate(to, reason)
		}
		return e.failRestoring(ctx, from, reason)
	}
	if err := e.enter(StateArm, ""); err != nil {
		return e.failRestoring(ctx, from, err.Error())
	}
	vars := bootVars(to)
	vars["upgrade_available"] = "1"
	vars["bootcount"] = "0"
	if err := e.writeEnv(vars); err != nil {
		return e.failRestoring(ctx, from, "arm trial boot: "+err.Error())
	}
	e.crash("armed")
	if err := e.scripts(ctx, StateArm, "Leave"); err != nil {
		return e.rollback(ctx, err.Error())
	}
	return e.reboot(ctx, StateReboot)
}

// fail ends an update that never armed the trial boot.
func (e *Engine) fail(ctx context.Context, reason string) error {
	st := e.journal().State
	e.setReason(fmt.Sprintf("%s: %s", st, reason))
	e.errorScripts(ctx, st)
	return e.end(ctx, StateFailed)
}

// failRestoring is fail for the arm state: the environment may already
// point to the new slot, so point it back first. If that write fails the
// journal stays in arm and Resume retries.
func (e *Engine) failRestoring(ctx context.Context, from slot.Slot, reason string) error {
	vars := bootVars(from)
	vars["upgrade_available"] = "0"
	if err := e.writeEnv(vars); err != nil {
		e.setReason(fmt.Sprintf("arm: %s; restoring boot environment: %v", reason, err))
		_ = e.save() // best effort: the reason survives
		return fmt.Errorf("engine: %s; restoring boot environment: %w", reason, err)
	}
	return e.fail(ctx, reason)
}

// finish runs the failure scripts and journals the terminal state.
func (e *Engine) finish(ctx context.Context, s State) error {
	if s != StateCommitted {
		e.runIgnoring(ctx, "ArtifactFailure", "Enter")
	}
	if err := e.enter(s, ""); err != nil {
		return fmt.Errorf("engine: journal %s: %w", s, err)
	}
	j := e.journal()
	switch s {
	case StateCommitted:
		e.audit("update.committed", map[string]string{"artifact": j.Artifact, "version": j.ArtifactVersion, "digest": j.Digest, "slot": j.ToSlot})
	case StateRolledBack:
		e.audit("update.rolled_back", map[string]string{"artifact": j.Artifact, "digest": j.Digest, "reason": j.Reason})
	case StateFailed:
		e.audit("update.refused", map[string]string{"artifact": j.Artifact, "digest": j.Digest, "reason": j.Reason})
	}
	if s != StateCommitted {
		e.runIgnoring(ctx, "ArtifactFailure", "Leave")
	}
	return nil
}

// audit records a security event (Options.Audit).
func (e *Engine) audit(kind string, fields map[string]string) {
	if e.o.Audit != nil {
		e.o.Audit(kind, fields)
	}
}

// end finishes in the terminal state s and returns the operation's result:
// an error wrapping ErrFailed or ErrRolledBack with the journaled reason.
func (e *Engine) end(ctx context.Context, s State) error {
	if err := e.finish(ctx, s); err != nil {
		return err
	}
	return e.resultErr()
}

// crashReader calls crash as bytes pass (test seam for power cuts inside
// the payload write).
type crashReader struct {
	r     io.Reader
	n     int64
	crash func(string)
}

func (c *crashReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	c.crash(fmt.Sprintf("payload:%d", c.n))
	return n, err
}

// refuseScripts refuses an artifact that carries state scripts, before a
// byte of its payload is written. Why the engine does not run them is in
// doc.go ("State scripts").
func refuseScripts(h Header) error {
	if len(h.Scripts) == 0 {
		return nil
	}
	names := h.Scripts
	more := ""
	if len(names) > 8 {
		names, more = names[:8], fmt.Sprintf(" and %d more", len(h.Scripts)-8)
	}
	return fmt.Errorf("%w: artifact %q carries %s%s: this device runs only the state scripts of its own installed release (update.scripts_dir), never scripts shipped inside an artifact; rebuild the artifact without scripts (mender-artifact write without -s) and ship that logic as the release's own state scripts",
		ErrArtifactScripts, h.Name, strings.Join(names, ", "), more)
}
