package remote

import (
	"context"

	"medagent/telemetry"
)

// Technical events of the security state, spooled when it changes: the
// agent monitors on, and the back end learns why commands or the uplink
// wait once the uplink can publish.
//
//	events/uplink    event/condition uplink_waiting (event/reason) or uplink_ok
//	events/commands  event/condition commands_unavailable (event/reason) or commands_available
const (
	streamUplink   = "uplink"
	streamCommands = "commands"
)

// securityState is what was last reported.
type securityState struct {
	uplink, trust string
}

// Security lists the security states that keep part of the agent waiting
// (for the technician's status); empty when there are none.
func (s *Service) Security() []string {
	var out []string
	if err := s.TrustError(); err != nil && s.o.Keyring != "" {
		out = append(out, "signed commands refused: "+err.Error())
	}
	if u := s.uplinkSecurity(); u != "" {
		out = append(out, "uplink waiting: "+u)
	}
	return out
}

// uplinkSecurity is the security state the uplink reports in the hand-off,
// "" when none (or when its report is stale).
func (s *Service) uplinkSecurity() string {
	u, err := s.c.UplinkStatus()
	if err != nil {
		return ""
	}
	if age := s.o.Now().Sub(u.Updated); age > uplinkFresh || age < -uplinkFresh {
		return ""
	}
	return u.Security
}

// reportSecurity spools a technical event when a security state changes
// (and tries a broken keyring or nonce store again).
func (s *Service) reportSecurity(ctx context.Context, last *securityState) {
	if s.o.Keyring != "" && s.TrustError() != nil {
		s.loadTrust()
	}
	trust := ""
	if err := s.TrustError(); err != nil && s.o.Keyring != "" {
		trust = err.Error()
	}
	if trust != last.trust {
		if trust != "" {
			s.event(ctx, streamCommands, "commands_unavailable", trust)
		} else {
			s.event(ctx, streamCommands, "commands_available", "")
		}
		last.trust = trust
	}
	up := s.uplinkSecurity()
	if up != last.uplink {
		if up != "" {
			s.log.Warn("the uplink waits for its security state; monitoring and spooling go on", "reason", up)
			s.event(ctx, streamUplink, "uplink_waiting", up)
		} else {
			s.log.Info("the uplink no longer waits for its security state")
			s.event(ctx, streamUplink, "uplink_ok", "")
		}
		last.uplink = up
	}
}

func (s *Service) event(ctx context.Context, stream, cond, reason string) {
	recs := []telemetry.Record{{Name: "event/condition", String: cond}}
	if reason != "" {
		recs = append(recs, telemetry.Record{Name: "event/reason", String: reason})
	}
	p := telemetry.Pack{Stream: stream, Class: telemetry.ClassEvent, Time: s.o.Now(), Records: recs}
	b, err := p.Marshal()
	if err == nil {
		_, err = s.o.Spool.Append(ctx, p.Class, p.Stream, p.Time, b)
	}
	if err != nil && ctx.Err() == nil {
		s.log.Error("spooling a security event failed", "stream", stream, "err", err)
	}
}
