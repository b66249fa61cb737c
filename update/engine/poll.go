package engine

import (
	"context"
	"fmt"
	"time"
)

// PollEvery is how often a Poll check asks again.
const PollEvery = 500 * time.Millisecond

// Poll returns a check function that asks ok every PollEvery until it
// returns nil or the check's deadline ends (then the last answer is the
// error): the agent's sensors and broker come up after Resume starts.
func Poll(what string, ok func() error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTicker(PollEvery)
		defer t.Stop()
		for {
			err := ok()
			if err == nil {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s: %w (last: %v)", what, ctx.Err(), err)
			case <-t.C:
			}
		}
	}
}
