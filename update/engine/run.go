package engine

import "context"

// Run resumes the journal once (after a trial boot: verify, health
// checks, commit or roll back) and then, until ctx ends, watches every
// reboot the engine requests (AwaitReboot): installs come through Install,
// which returns once its reboot was requested. A failed update is logged
// (the journal keeps why) and never ends Run, so it never stops the
// agent's monitoring.
func (e *Engine) Run(ctx context.Context) error {
	if err := e.Resume(ctx); err != nil && ctx.Err() == nil {
		e.o.Logger.Error("update resume failed", "err", err, "state", string(e.Status().State))
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-e.requested:
		}
		if err := e.AwaitReboot(ctx); err != nil && ctx.Err() == nil {
			e.o.Logger.Error("update reboot did not happen", "err", err, "state", string(e.Status().State))
		}
	}
}
