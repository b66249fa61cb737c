package mender

import (
	"context"
	"errors"
	"time"
)

// Run authenticates, sends the inventory and polls for deployments until
// ctx is done; it returns nil then. Server and network errors are retried
// with backoff (429: after its Retry-After), never fatal.
func (c *Client) Run(ctx context.Context) error {
	if s := c.loadState(); s != nil {
		c.update(func(st *Status) {
			st.Deployment, st.Artifact, st.DeployState = s.Deploy.ID, s.Deploy.Artifact.Name, s.Reported
		})
		c.log.Info("mender: resuming deployment", "deployment", s.Deploy.ID, "item", s.Item)
		if err := c.resume(ctx, s); err != nil && ctx.Err() == nil {
			c.log.Warn("mender: resume deployment", "err", err)
		}
	}
	var lastInv []byte
	var invDue, pollDue time.Time
	fails := 0
	for ctx.Err() == nil {
		err := c.cycle(ctx, &lastInv, &invDue, &pollDue)
		if ctx.Err() != nil {
			break
		}
		now := c.now()
		wait := min(pollDue.Sub(now), invDue.Sub(now))
		var se *StatusError
		switch {
		case err == nil:
			fails = 0
		case errors.As(err, &se) && se.RetryAfter > 0:
			wait = c.afterRetryAfter(se.RetryAfter)
		default:
			wait = c.backoff(fails)
			fails++
		}
		if err != nil {
			if errors.Is(err, ErrNotAccepted) {
				c.log.Info("mender: not accepted yet, will ask again", "retry_in", wait.Round(time.Millisecond))
			} else {
				c.log.Warn("mender: call failed, will retry", "err", err, "retry_in", wait.Round(time.Millisecond))
			}
		}
		wait = max(wait, 0)
		c.update(func(s *Status) {
			s.NextTry = now.Add(wait)
			if err != nil {
				s.LastError = err.Error()
			} else {
				s.LastError = ""
			}
		})
		if c.sleep(ctx, wait) != nil {
			break
		}
	}
	return nil
}

// cycle does what is due: authentication, inventory, a poll and the
// deployment it brings.
func (c *Client) cycle(ctx context.Context, lastInv *[]byte, invDue, pollDue *time.Time) error {
	if _, err := c.token(ctx); err != nil {
		return err
	}
	now := c.now()
	sent, err := c.sendInventory(ctx, *lastInv, !now.Before(*invDue))
	if err != nil {
		return err
	}
	if !now.Before(*invDue) {
		*invDue = now.Add(c.jittered(c.o.InventoryInterval))
	}
	*lastInv = sent
	if now.Before(*pollDue) {
		return nil
	}
	d, err := c.next(ctx)
	if err != nil {
		return err
	}
	*pollDue = c.now().Add(c.jittered(c.o.PollInterval))
	if d == nil {
		return nil
	}
	return c.deploy(ctx, d)
}

// resume goes on with the deployment of a previous run.
func (c *Client) resume(ctx context.Context, s *deployState) error {
	if s.Item != "" {
		return c.follow(ctx, s)
	}
	// Not handed over yet: start again from the download (which resumes
	// from the bytes already there).
	d := s.Deploy
	c.clearState()
	return c.deploy(ctx, &d)
}

// jittered is interval d spread uniformly over [3/4·d, 5/4·d): each wait
// is drawn anew, so devices that started together (a ward's power coming
// back, a server that answered them all after an outage) drift apart
// within a few intervals instead of polling the server in lockstep for
// ever, and the mean interval stays d.
func (c *Client) jittered(d time.Duration) time.Duration {
	return d - d/4 + time.Duration(c.rand()*float64(d/2))
}

// afterRetryAfter is the wait after a server's Retry-After of d: never
// less than d, and spread uniformly over [d, 3/2·d) so that the devices
// a server turned away together do not all come back in the same second.
func (c *Client) afterRetryAfter(d time.Duration) time.Duration {
	return d + time.Duration(c.rand()*float64(d/2))
}
