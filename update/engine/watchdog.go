package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"medagent/internal/ctxsleep"
)

// A reboot request that returns is not a reboot: the reboot unit may fail,
// an inhibitor may hold it, the request may be lost on its way. Until the
// process ends, the engine cannot tell; it can only wait. AwaitReboot is
// that bounded wait. After RebootTimeout it says so (Status.RebootProblem,
// the log), asks again (the clinical-use lock still rules) up to
// RebootRetries times, and then gives up safely: the boot environment goes
// back to the running slot (StateDisarm, journaled first), so that an
// unrelated power cycle later cannot boot the armed slot behind the
// engine's back, and the update ends failed with the reason. For the
// reboot of a rollback (StateRollbackBoot) the environment already points
// to the old slot: giving up ends the update failed, saying that the new
// slot runs until the next reboot.

// awaiting reports whether j waits for a reboot it requested.
func awaiting(j Journal) bool {
	return (j.State == StateReboot || j.State == StateRollbackBoot) && j.RebootRequests > 0
}

// opRetry is how often AwaitReboot tries again to take the engine while
// another operation holds it.
const opRetry = time.Second

// AwaitReboot watches the reboot the engine requested (Run calls it after
// every request; so does the offline "update resume"). It returns nil at
// once when no requested reboot is outstanding, and when another operation
// (an operator's rollback) settled the update meanwhile. Otherwise it does
// not return while the reboot is under way (the reboot ends the process);
// when the reboot never happens it asks again and finally gives up,
// returning an error wrapping ErrFailed. It holds the engine only to act,
// never while it waits, so an operator may roll back meanwhile.
func (e *Engine) AwaitReboot(ctx context.Context) error {
	for {
		j := e.journal()
		if !awaiting(j) {
			return nil
		}
		deadline := j.RebootRequestedAt.Add(e.o.RebootTimeout)
		// A clock stepped backwards never stretches the wait beyond one
		// timeout; one stepped forwards ends it at once.
		d := min(max(deadline.Sub(e.o.Now()), 0), e.o.RebootTimeout)
		forced := false
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		case <-e.forceCh:
			t.Stop()
			forced = true
		}
		err := e.overdue(ctx, j, forced)
		switch {
		case errors.Is(err, ErrBusy):
			if werr := ctxsleep.Sleep(ctx, opRetry); werr != nil {
				return nil
			}
		case err != nil:
			return err
		}
	}
}

// overdue acts on a reboot request made as journaled in seen that did not
// end the process in time (or that a technician wants repeated now):
// request again or give up. Nothing is done when the journal moved on
// meanwhile (another request, an operator's rollback).
func (e *Engine) overdue(ctx context.Context, seen Journal, forced bool) error {
	unlock, err := e.tryOp()
	if err != nil {
		return err
	}
	defer unlock()
	j := e.journal()
	if !awaiting(j) || j.State != seen.State || j.RebootRequests != seen.RebootRequests || !j.RebootRequestedAt.Equal(seen.RebootRequestedAt) {
		return nil
	}
	attempts := e.rebootAttempts()
	target := j.ToSlot
	if j.State == StateRollbackBoot {
		target = j.FromSlot
	}
	if forced {
		e.log.Warn("update reboot requested again: forced by a technician", "state", string(j.State), "request", j.RebootRequests)
		return e.requestReboot(ctx, j.State)
	}
	problem := fmt.Sprintf("reboot into slot %s did not happen within %s of request %d of %d (at %s)",
		target, e.o.RebootTimeout, j.RebootRequests, attempts, j.RebootRequestedAt.Format(time.RFC3339))
	if j.RebootError != "" {
		problem += " (the request failed: " + j.RebootError + ")"
	}
	if j.RebootRequests < attempts {
		e.log.Warn("update reboot did not happen; requesting it again", "state", string(j.State), "slot", target,
			"request", j.RebootRequests+1, "of", attempts, "problem", problem)
		e.update(func(j *Journal) { j.RebootProblem = problem + "; requesting it again" })
		if err := e.save(); err != nil {
			return fmt.Errorf("engine: journal the overdue reboot: %w", err)
		}
		e.crash("reboot-overdue")
		return e.requestReboot(ctx, j.State)
	}
	e.log.Error("update reboot did not happen; giving up", "state", string(j.State), "slot", target, "problem", problem)
	e.update(func(j *Journal) { j.RebootProblem = problem })
	if j.State == StateRollbackBoot {
		// The rollback's own reason stays first; this says how it ended.
		giveUp := fmt.Sprintf("%s: %s: giving up; slot %s (never committed) runs until the next reboot, which boots slot %s (the boot environment already points to it)",
			j.State, problem, j.ToSlot, j.FromSlot)
		e.update(func(j *Journal) {
			if j.Reason != "" {
				giveUp = j.Reason + "; then " + giveUp
			}
			j.Reason = giveUp
		})
		e.runIgnoring(ctx, "ArtifactRollbackReboot", "Error")
		return e.end(ctx, StateFailed)
	}
	e.setReason(fmt.Sprintf("%s: %s: giving up; the trial boot is disarmed (boot environment back to slot %s)", j.State, problem, j.FromSlot))
	e.errorScripts(ctx, StateReboot)
	return e.disarm(ctx, problem)
}

// disarm points the boot environment back to the running (old) slot and
// ends the update failed: the trial boot never happened and never will
// behind the engine's back. StateDisarm is journaled first, so a restart
// finishes it (Resume); the environment write is idempotent.
func (e *Engine) disarm(ctx context.Context, note string) error {
	from, _, err := e.slots()
	if err != nil {
		return err
	}
	if err := e.enter(StateDisarm, note); err != nil {
		if !isLoop(err) {
			return fmt.Errorf("engine: disarm: %w", err)
		}
		// Disarming keeps being interrupted: do it once more and end.
		e.setReason(err.Error())
	}
	e.runIgnoring(ctx, "ArtifactRollback", "Enter")
	vars := bootVars(from)
	vars["upgrade_available"] = "0"
	vars["bootcount"] = "0"
	if err := e.writeEnv(vars); err != nil {
		return fmt.Errorf("engine: disarm: restoring the boot environment: %w", err) // stays in disarm; Resume retries
	}
	e.crash("disarmed-env")
	e.runIgnoring(ctx, "ArtifactRollback", "Leave")
	return e.end(ctx, StateFailed)
}
