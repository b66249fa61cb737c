package engine

import "context"

// Run resumes the journal once (after a trial boot: verify, health
// checks, commit or roll back) and then waits until ctx ends: installs
// come later through Install. A failed update is logged (the journal
// keeps why) and never ends Run, so it never stops the agent's
// monitoring.
func (e *Engine) Run(ctx context.Context) error {
	if err := e.Resume(ctx); err != nil && ctx.Err() == nil {
		e.o.Logger.Error("update resume failed", "err", err, "state", string(e.Status().State))
	}
	<-ctx.Done()
	return nil
}
