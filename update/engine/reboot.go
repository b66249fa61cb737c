package engine

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"
)

// reboot enters s (StateReboot or StateRollbackBoot), runs its scripts,
// waits for the clinical-use lock and requests the reboot. It returns once
// the request was made; AwaitReboot (run by Run) watches that it happens.
func (e *Engine) reboot(ctx context.Context, s State) error {
	// A new reboot state starts with no request made (the journal may
	// hold those of the reboot before a rollback).
	e.update(func(j *Journal) {
		j.RebootRequests, j.RebootRequestedAt, j.RebootProblem, j.RebootError = 0, time.Time{}, "", ""
	})
	if err := e.enter(s, ""); err != nil {
		if s == StateReboot {
			return e.rollback(ctx, err.Error())
		}
		if isLoop(err) {
			// The boot environment already points to the old slot; the
			// reboot into it keeps not happening. Give up loudly.
			e.setReason(err.Error())
			return e.end(ctx, StateFailed)
		}
		return err
	}
	if s == StateReboot {
		if err := e.scripts(ctx, s, "Enter"); err != nil {
			return e.rollback(ctx, err.Error())
		}
	} else {
		e.runIgnoring(ctx, "ArtifactRollbackReboot", "Enter")
	}
	return e.requestReboot(ctx, s)
}

// requestReboot waits for the clinical-use lock, journals the request
// (its number and time, before it is made: after a restart the engine
// knows it was made) and makes it. A request that fails (the reboot
// command exits non-zero: a unit that fails, an inhibitor) counts like one
// that silently does not reboot: the watchdog asks again after
// RebootTimeout and gives up after RebootRetries more. It wakes the
// watchdog (AwaitReboot) and returns nil once the request was made.
func (e *Engine) requestReboot(ctx context.Context, s State) error {
	if err := e.waitRebootAllowed(ctx); err != nil {
		return fmt.Errorf("engine: waiting to reboot: %w", err)
	}
	prev := e.journal()
	n := prev.RebootRequests + 1
	e.update(func(j *Journal) { j.RebootRequests, j.RebootRequestedAt = n, e.o.Now().UTC() })
	if err := e.save(); err != nil {
		// Never a request the journal does not know of.
		e.update(func(j *Journal) { j.RebootRequests, j.RebootRequestedAt = prev.RebootRequests, prev.RebootRequestedAt })
		return fmt.Errorf("engine: journal the reboot request: %w", err)
	}
	e.crash("reboot")
	err := e.o.Reboot(ctx)
	// A technician's force that arrived before this request is spent by
	// it: only a new one cuts the watchdog's wait short.
	select {
	case <-e.forceCh:
	default:
	}
	e.wakeWatchdog()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("engine: reboot: %w", err)
		}
		// The command's output is in the error: bounded, the journal is.
		msg := clip(err.Error(), maxRebootError)
		problem := fmt.Sprintf("reboot request %d of %d failed: %s", n, e.rebootAttempts(), msg)
		e.log.Error("update reboot request failed", "state", string(s), "request", n, "err", msg)
		e.update(func(j *Journal) { j.RebootProblem, j.RebootError = problem, msg })
		if err := e.save(); err != nil {
			e.log.Error("update journal: reboot problem not saved", "err", err)
		}
		return nil
	}
	if prev.RebootError != "" {
		e.update(func(j *Journal) { j.RebootError = "" })
		if err := e.save(); err != nil {
			e.log.Error("update journal: reboot problem not saved", "err", err)
		}
	}
	e.log.Info("update reboot requested", "state", string(s), "request", n, "timeout", e.o.RebootTimeout.String())
	return nil
}

// maxRebootError bounds a failed reboot request's error (the reboot
// command's output) kept in the journal and the reasons.
const maxRebootError = 512

// clip returns s cut to at most n bytes (on a rune boundary), marked.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// wakeWatchdog tells Run that a requested reboot needs watching.
func (e *Engine) wakeWatchdog() {
	select {
	case e.requested <- struct{}{}:
	default:
	}
}

// rebootAttempts is how many reboot requests the engine makes before it
// gives up.
func (e *Engine) rebootAttempts() int { return 1 + e.o.RebootRetries }

// waitRebootAllowed returns when a reboot may happen: forced, or no patient
// monitored and (if configured) inside the maintenance window. While it
// waits, Status reports StateRebootPending with the reason.
func (e *Engine) waitRebootAllowed(ctx context.Context) error {
	defer e.setPending("")
	for {
		reason := ""
		switch {
		case e.force.Load():
		case e.o.Monitoring():
			reason = "patient monitored"
		case e.o.Window != nil && !e.o.Window.Contains(e.o.Now()):
			reason = "outside maintenance window"
		}
		if reason == "" {
			return nil
		}
		e.setPending(reason)
		if err := e.wait(ctx, e.o.PollInterval); err != nil {
			return err
		}
	}
}

func (e *Engine) setPending(reason string) {
	e.mu.Lock()
	changed := e.pending != reason
	e.pending = reason
	e.mu.Unlock()
	if changed && reason != "" {
		e.log.Info("update reboot pending", "reason", reason)
	}
}
