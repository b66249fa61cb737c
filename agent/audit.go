package agent

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"medagent/config"
	"medagent/internal/authfile"
	"medagent/trust/audit"
	"medagent/trust/datakey"
)

// loadStateKey loads (making it at first start) the acquire role's state
// key (config's StateKeyFile), sealed by the TPM when there is one.
func loadStateKey(cfg config.Config) ([]byte, error) {
	k, err := datakey.Load(datakey.Options{TPM: cfg.Trust.TPM, File: cfg.StateKeyFile(), Private: true})
	if err != nil {
		return nil, fmt.Errorf("state key: %w", err)
	}
	return k, nil
}

// newAudit opens the acquire role's audit trail (trust/audit); every entry
// is also spooled as an event on stream "audit" for the back end. A trail
// that cannot be opened is logged and left out: monitoring never stops
// for it.
func newAudit(cfg config.Config, log *slog.Logger, sp *acquireSide) *audit.Log {
	if cfg.AuditTrailDir() == "" {
		log.Info("no audit trail: updates and commands are off and trust.audit_dir is not set")
		return nil
	}
	key, err := loadStateKey(cfg)
	if err == nil {
		var l *audit.Log
		l, err = audit.Open(audit.Options{Dir: cfg.AuditTrailDir(), Key: authfile.DeriveKey(key, "audit log"), Logger: log,
			Burst: cfg.Trust.AuditBurst, Every: cfg.Trust.AuditEvery, DropSync: cfg.Trust.AuditDropSync,
			Publish: func(e audit.Entry) { spoolAudit(sp, log, e) }})
		if err == nil {
			return l
		}
	}
	log.Error("audit trail unavailable: security events are only logged", "dir", cfg.AuditTrailDir(), "err", err)
	return nil
}

// spoolAudit spools one entry as an event (audit.Entry.Pack).
func spoolAudit(sp *acquireSide, log *slog.Logger, e audit.Entry) {
	p := e.Pack()
	b, err := p.Marshal()
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = sp.spool.Append(ctx, p.Class, p.Stream, p.Time, b)
		cancel()
	}
	if err != nil {
		log.Error("spooling an audit entry failed", "seq", e.Seq, "err", err)
	}
}

// auditFunc is the Audit hook of the engine, the remote service and the
// technician socket; nil when there is no trail.
func auditFunc(l *audit.Log) func(kind string, fields map[string]string) {
	if l == nil {
		return nil
	}
	return func(kind string, fields map[string]string) { l.Record(kind, fields) }
}
