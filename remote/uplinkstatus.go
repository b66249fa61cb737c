package remote

import (
	"context"
	"log/slog"
	"time"

	"medagent/handoff"
)

// StatusWriter is where the uplink's broker state goes (handoff.Producer).
type StatusWriter interface {
	WriteUplinkStatus(handoff.UplinkStatus) error
}

// Broker state in the hand-off: written at every change and at least
// every statusRefresh, so that acquire can tell a stale file.
const (
	statusPoll    = time.Second
	statusRefresh = 30 * time.Second // few writes: the data partition is flash
)

// ReportUplink writes the uplink's broker state into the hand-off until
// ctx ends: state gives Connected, Broker, Waiting and Security; Since
// (the last change of Connected) and Updated are added here. A failed
// write is logged; the next change or refresh writes again.
func ReportUplink(ctx context.Context, w StatusWriter, state func() handoff.UplinkStatus, now func() time.Time, log *slog.Logger) error {
	t := time.NewTicker(statusPoll)
	defer t.Stop()
	var last handoff.UplinkStatus
	var wrote time.Time
	for {
		s := state()
		s.Since = last.Since
		at := now()
		if s.Connected != last.Connected || s.Since.IsZero() {
			s.Since = at.UTC()
		}
		if s.Connected != last.Connected || s.Waiting != last.Waiting || s.Security != last.Security || at.Sub(wrote) >= statusRefresh || at.Before(wrote) {
			s.Updated = at.UTC()
			if err := w.WriteUplinkStatus(s); err != nil {
				log.Warn("uplink: broker state not written to the hand-off", "err", err)
			}
			last, wrote = s, at
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
