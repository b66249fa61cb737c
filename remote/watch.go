package remote

import (
	"context"
	"fmt"
	"time"

	"medagent/handoff"
	"medagent/trust/command"
)

// watchEvery is how often watch looks at the items under way.
const watchEvery = 5 * time.Second

// watch reports the security state (technical events), publishes the
// running software for the uplink, settles what a restart interrupted and
// then, until ctx ends,
// fails update commands whose artifact never came and settles updates
// once the engine has decided after a trial boot.
func (s *Service) watch(ctx context.Context) error {
	var sec securityState
	var run runningState
	s.reportSecurity(ctx, &sec)
	s.publishRunning(&run)
	s.settle(ctx)
	s.settleUpdates(ctx)
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		s.reportSecurity(ctx, &sec)
		s.expire(ctx)
		s.settleUpdates(ctx)
		s.publishRunning(&run)
	}
}

// settle finishes items a restart interrupted: a command that was being
// verified or run has an unknown outcome and fails (its nonce may be used,
// so it cannot run again).
func (s *Service) settle(ctx context.Context) {
	for _, st := range s.c.States() {
		if st.Kind != handoff.KindCommand {
			continue
		}
		switch st.Phase {
		case handoff.Received, handoff.Verifying:
			st = s.fail(st, "interrupted by an agent restart before it completed; send it again with a new nonce")
			s.publish(ctx, s.result(st, command.StatusFailed, st.Reason))
		}
	}
}

// expire fails update commands that waited longer than FetchTimeout.
func (s *Service) expire(ctx context.Context) {
	now := s.o.Now()
	for _, st := range s.c.States() {
		if st.Phase != handoff.Fetch || now.Sub(st.Updated) < s.o.FetchTimeout {
			continue
		}
		st = s.fail(st, fmt.Sprintf("no artifact arrived within %s of the update command", s.o.FetchTimeout))
		s.publish(ctx, s.result(st, command.StatusFailed, st.Reason))
	}
}

// uplinkFresh is how recent the uplink's broker state must be to count:
// the uplink rewrites it at every change and every 30 s.
const uplinkFresh = 90 * time.Second

// BrokerReachable is the "broker reachable" health check after a trial
// boot: nil when the uplink says (in the hand-off, within uplinkFresh) that
// it is connected, else an error saying why not.
func (s *Service) BrokerReachable() error {
	u, err := s.c.UplinkStatus()
	if err != nil {
		return fmt.Errorf("no broker state from the uplink: %w", err)
	}
	if age := s.o.Now().Sub(u.Updated); age > uplinkFresh || age < -uplinkFresh {
		return fmt.Errorf("the uplink's broker state is %s old (uplink not running?)", age.Round(time.Second))
	}
	if !u.Connected {
		return fmt.Errorf("the uplink is not connected to %s: %s", u.Broker, u.Waiting)
	}
	return nil
}
