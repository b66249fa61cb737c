package engine

import (
	"context"
	"fmt"
)

// reboot enters s (StateReboot or StateRollbackBoot), runs its scripts,
// waits for the clinical-use lock and reboots.
func (e *Engine) reboot(ctx context.Context, s State) error {
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
	if err := e.waitRebootAllowed(ctx); err != nil {
		return fmt.Errorf("engine: waiting to reboot: %w", err)
	}
	e.crash("reboot")
	if err := e.o.Reboot(ctx); err != nil {
		if s == StateReboot {
			return e.rollback(ctx, "reboot: "+err.Error())
		}
		return fmt.Errorf("engine: reboot: %w", err)
	}
	return nil
}

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
