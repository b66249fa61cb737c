package engine

import (
	"context"
	"fmt"
	"time"
)

// health runs the configured checks in order; the first failure fails.
func (e *Engine) health(ctx context.Context) error {
	for _, c := range e.o.Health {
		if err := runCheck(ctx, c); err != nil {
			return fmt.Errorf("health check %q (%s): %w", c.Name, c.Kind, err)
		}
	}
	return nil
}

func runCheck(ctx context.Context, c Check) error {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	if c.Func != nil {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		deadline := time.Now().Add(timeout)
		err := c.Func(cctx)
		// The clock, not only cctx.Err: the context's timer may not have
		// fired yet on a loaded machine when the hook returns late.
		if err == nil && (cctx.Err() != nil || time.Now().After(deadline)) {
			// Fail closed: a hook that ignored its deadline is no evidence.
			err = fmt.Errorf("took longer than %s", timeout)
		}
		return err
	}
	code, out, err := runCommand(ctx, timeout, c.Command)
	if err != nil {
		return fmt.Errorf("%w%s", err, out)
	}
	if code != 0 {
		return fmt.Errorf("exit status %d%s", code, out)
	}
	return nil
}
