package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"

	"medagent/update/slot"
)

// Resume continues whatever the journal says; the agent calls it at every
// start. After the reboot into the new slot it verifies the boot, runs the
// health checks and commits or rolls back. It returns an error wrapping
// ErrFailed or ErrRolledBack when the update ended badly.
func (e *Engine) Resume(ctx context.Context) error {
	unlock, err := e.tryOp()
	if err != nil {
		return err
	}
	defer unlock()
	j := e.journal()
	if j.State.Terminal() {
		return nil
	}
	if j.State.preArm() {
		if j.URL != "" && e.o.DownloadDir != "" {
			return e.run(ctx, e.fetchSource) // download again from its checkpoint
		}
		// The payload stream is gone; nothing was armed.
		_, to, err := e.slots()
		if err != nil {
			return err
		}
		return e.fail(ctx, e.invalidateIfWritten(to, "interrupted (agent restart or power loss)"))
	}
	from, to, err := e.slots()
	if err != nil {
		return err
	}
	bs, err := e.readBootState()
	if err != nil {
		return err
	}
	onNew := bs.running.Name == to.Name
	armed := bs.upgrading && bs.part == to.Part
	switch j.State {
	case StateArm:
		if onNew && armed {
			return e.afterBoot(ctx)
		}
		if bs.running.Name == from.Name {
			return e.armAndReboot(ctx)
		}
	case StateReboot:
		if onNew && armed {
			return e.afterBoot(ctx)
		}
		if bs.running.Name == from.Name && armed {
			if j.RebootRequests > 0 {
				// Restarted after the request, without a reboot: the
				// watchdog (Run) waits out the rest of the timeout.
				e.wakeWatchdog()
				return nil
			}
			return e.reboot(ctx, StateReboot)
		}
		return e.rollback(ctx, fmt.Sprintf("boot loader fell back to slot %s: slot %s did not come up", bs.running.Name, to.Name))
	case StateDisarm:
		if onNew {
			// The reboot happened after all, late, while the engine was
			// giving up on it: finish giving up.
			return e.rollback(ctx, fmt.Sprintf("slot %s booted after the engine had given up on its reboot", to.Name))
		}
		return e.disarm(ctx, "")
	case StateVerifyBoot, StateHealth:
		if onNew {
			return e.afterBoot(ctx)
		}
		return e.rollback(ctx, fmt.Sprintf("boot loader fell back to slot %s during %s", bs.running.Name, j.State))
	case StateCommit:
		if onNew {
			return e.commit(ctx)
		}
		return e.rollback(ctx, fmt.Sprintf("boot loader fell back to slot %s during commit", bs.running.Name))
	case StateRollback:
		return e.rollback(ctx, "")
	case StateRollbackBoot:
		if bs.running.Name == from.Name {
			e.runIgnoring(ctx, "ArtifactRollbackReboot", "Leave")
			return e.end(ctx, StateRolledBack)
		}
		if j.RebootRequests > 0 {
			e.wakeWatchdog()
			return nil
		}
		return e.reboot(ctx, StateRollbackBoot)
	}
	return e.rollback(ctx, fmt.Sprintf("unexpected restart in state %s on slot %s", j.State, bs.running.Name))
}

// afterBoot runs on the new slot: verify the boot, health, commit.
func (e *Engine) afterBoot(ctx context.Context) error {
	if err := e.enter(StateVerifyBoot, ""); err != nil {
		return e.rollback(ctx, err.Error())
	}
	_, to, err := e.slots()
	if err != nil {
		return err
	}
	bs, err := e.readBootState()
	if err != nil {
		return e.rollback(ctx, err.Error())
	}
	switch {
	case bs.running.Name != to.Name:
		return e.rollback(ctx, fmt.Sprintf("running slot %s, armed slot %s", bs.running.Name, to.Name))
	case !bs.upgrading:
		return e.rollback(ctx, "upgrade_available is not 1 after the trial boot")
	case bs.part != to.Part:
		return e.rollback(ctx, fmt.Sprintf("mender_boot_part=%q, armed %q", bs.part, to.Part))
	}
	if err := e.scripts(ctx, StateVerifyBoot, "Leave"); err != nil {
		return e.rollback(ctx, err.Error())
	}
	if err := e.enter(StateHealth, ""); err != nil {
		return e.rollback(ctx, err.Error())
	}
	if err := e.health(ctx); err != nil {
		return e.rollback(ctx, err.Error())
	}
	return e.commit(ctx)
}

// Commit commits the running trial boot now, without the health checks: an
// operator's decision. It only works on the new slot after the reboot.
func (e *Engine) Commit(ctx context.Context) error {
	unlock, err := e.tryOp()
	if err != nil {
		if j := e.journal(); j.State == StateArm || j.State == StateReboot {
			// The operation holding the engine is the install waiting for
			// its reboot (clinical-use lock).
			return fmt.Errorf("%w: slot %s is installed but has not booted yet (reboot pending): commit after its trial boot", ErrNotBooted, j.ToSlot)
		}
		return err
	}
	defer unlock()
	j := e.journal()
	switch j.State {
	case StateArm, StateReboot, StateVerifyBoot, StateHealth, StateCommit:
	default:
		return fmt.Errorf("%w: cannot commit in state %s", ErrNoUpdate, j.State)
	}
	_, to, err := e.slots()
	if err != nil {
		return err
	}
	bs, err := e.readBootState()
	if err != nil {
		return fmt.Errorf("%w: refusing to commit what may not have booted", err)
	}
	if bs.running.Name != to.Name {
		if j.State == StateArm || j.State == StateReboot {
			return fmt.Errorf("%w: slot %s is installed but has not booted yet (running slot %s): reboot into it first (medagent update reboot, or let the pending reboot happen), commit after its trial boot", ErrNotBooted, to.Name, bs.running.Name)
		}
		return fmt.Errorf("%w: running slot %s is not the updated slot %s: refusing to commit", ErrNotBooted, bs.running.Name, to.Name)
	}
	if j.State != StateCommit && (!bs.upgrading || bs.part != to.Part) {
		return fmt.Errorf("engine: slot %s is not on a trial boot (upgrade_available, mender_boot_part): refusing to commit", to.Name)
	}
	return e.commit(ctx)
}

func (e *Engine) commit(ctx context.Context) error {
	if err := e.enter(StateCommit, ""); err != nil {
		return e.rollback(ctx, err.Error())
	}
	bs, err := e.readBootState()
	if err != nil {
		return err // stays in commit; Resume retries
	}
	if bs.upgrading {
		if err := e.scripts(ctx, StateCommit, "Enter"); err != nil {
			return e.rollback(ctx, err.Error())
		}
		if err := e.writeEnv(map[string]string{"upgrade_available": "0"}); err != nil {
			return fmt.Errorf("engine: commit: %w", err) // stays in commit; Resume retries
		}
		e.crash("committed-env")
	}
	e.update(func(j *Journal) { j.Installed = newProvides(j.Installed, j.Provides, j.Clears, j.Artifact) })
	if err := e.finish(ctx, StateCommitted); err != nil {
		return err
	}
	e.raiseFloor(e.journal()) // only now, after the commit
	e.runIgnoring(ctx, "ArtifactCommit", "Leave")
	return nil
}

// Rollback abandons the update in progress: an operator's decision, or the
// way out of a stuck update. Before the trial boot was armed it cannot
// interrupt a running Install (ErrBusy).
func (e *Engine) Rollback(ctx context.Context) error {
	unlock, err := e.tryOp()
	if err != nil {
		return err
	}
	defer unlock()
	j := e.journal()
	if j.State.Terminal() {
		return fmt.Errorf("%w: state %s", ErrNoUpdate, j.State)
	}
	if j.State.preArm() {
		if err := e.fail(ctx, "rolled back by operator"); !errors.Is(err, ErrFailed) {
			return err
		}
		return nil
	}
	if err := e.rollback(ctx, "rolled back by operator"); err != nil && !errors.Is(err, ErrRolledBack) {
		return err
	}
	return nil
}

// rollback points the boot environment back to the old slot and reboots
// into it if the new one is running.
func (e *Engine) rollback(ctx context.Context, reason string) error {
	if reason != "" {
		e.setReason(fmt.Sprintf("%s: %s", e.journal().State, reason))
	}
	prev := e.journal().State
	if prev != StateRollback && prev != StateRollbackBoot {
		e.errorScripts(ctx, prev)
	}
	from, _, err := e.slots()
	if err != nil {
		return err
	}
	if err := e.enter(StateRollback, reason); err != nil {
		if !isLoop(err) {
			return err
		}
		// Rolling back keeps failing: make the old slot the boot slot one
		// last time and give up.
		e.setReason(err.Error())
		vars := bootVars(from)
		vars["upgrade_available"] = "0"
		if werr := e.writeEnv(vars); werr != nil {
			e.setReason(werr.Error())
		}
		return e.end(ctx, StateFailed)
	}
	e.runIgnoring(ctx, "ArtifactRollback", "Enter")
	// Which slot runs decides whether a reboot is needed. Unknown (no
	// positive identity) counts as "maybe the new one": reboot.
	running, _, err := e.o.Slots.Active()
	if err != nil && !errors.Is(err, slot.ErrUnknownSlot) {
		return fmt.Errorf("engine: %w", err)
	}
	vars := bootVars(from)
	vars["upgrade_available"] = "0"
	vars["bootcount"] = "0"
	if err := e.writeEnv(vars); err != nil {
		return fmt.Errorf("engine: rollback: %w", err) // stays in rollback; Resume retries
	}
	e.crash("rolled-back-env")
	e.runIgnoring(ctx, "ArtifactRollback", "Leave")
	if running.Name != from.Name {
		return e.reboot(ctx, StateRollbackBoot)
	}
	return e.end(ctx, StateRolledBack)
}

// newProvides is what the device provides after committing an artifact:
// the installed provides minus those the artifact clears (all when clears
// is nil, as Mender does for artifacts without clears_artifact_provides),
// plus the artifact's own.
func newProvides(installed, provides map[string]string, clears []string, name string) map[string]string {
	out := map[string]string{}
	if clears != nil {
		for k, v := range installed {
			keep := true
			for _, pat := range clears {
				if ok, _ := path.Match(pat, k); ok {
					keep = false
					break
				}
			}
			if keep {
				out[k] = v
			}
		}
	}
	maps.Copy(out, provides)
	out["artifact_name"] = name
	return out
}
