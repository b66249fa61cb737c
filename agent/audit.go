package agent

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"time"

	"medagent/config"
	"medagent/internal/authfile"
	"medagent/telemetry"
	"medagent/trust/audit"
	"medagent/trust/datakey"
	"medagent/update/engine"
)

// loadStateKey loads (making it at first start) the acquire role's state
// key: update.state_key, else state.key beside the update journal (beside
// the audit trail when updates are off); sealed by the TPM when there is
// one.
func loadStateKey(cfg config.Config) ([]byte, error) {
	f := cfg.Update.StateKey
	switch {
	case f != "":
	case cfg.Update.Enabled:
		f = engine.StateKeyFile(cfg.Update.Journal)
	default:
		f = filepath.Join(auditDir(cfg), "state.key")
	}
	k, err := datakey.Load(datakey.Options{TPM: cfg.Trust.TPM, File: f, Private: true})
	if err != nil {
		return nil, fmt.Errorf("state key: %w", err)
	}
	return k, nil
}

// auditDir is trust.audit_dir, else the directory of the acquire role's
// other state: the update journal's, or the keyring's; "" when this
// process keeps none (no trail then).
func auditDir(cfg config.Config) string {
	switch {
	case cfg.Trust.AuditDir != "":
		return cfg.Trust.AuditDir
	case cfg.Update.Enabled:
		return filepath.Dir(cfg.Update.Journal)
	case cfg.Commands.Enabled:
		return filepath.Dir(cfg.Commands.Keyring)
	}
	return ""
}

// newAudit opens the acquire role's audit trail (trust/audit); every entry
// is also spooled as an event on stream "audit" for the back end. A trail
// that cannot be opened is logged and left out: monitoring never stops
// for it.
func newAudit(cfg config.Config, log *slog.Logger, sp *acquireSide) *audit.Log {
	if auditDir(cfg) == "" {
		log.Info("no audit trail: updates and commands are off and trust.audit_dir is not set")
		return nil
	}
	key, err := loadStateKey(cfg)
	if err == nil {
		var l *audit.Log
		l, err = audit.Open(audit.Options{Dir: auditDir(cfg), Key: authfile.DeriveKey(key, "audit log"), Logger: log,
			Publish: func(e audit.Entry) { spoolAudit(sp, log, e) }})
		if err == nil {
			return l
		}
	}
	log.Error("audit trail unavailable: security events are only logged", "dir", auditDir(cfg), "err", err)
	return nil
}

// spoolAudit spools one entry: seq, kind and chain link, then the fields.
func spoolAudit(sp *acquireSide, log *slog.Logger, e audit.Entry) {
	recs := []telemetry.Record{
		{Name: "audit/seq", Value: telemetry.V(float64(e.Seq))},
		{Name: "audit/kind", String: e.Kind},
	}
	if e.Prev != "" {
		recs = append(recs, telemetry.Record{Name: "audit/prev", String: e.Prev})
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := e.Fields[k]; v != "" {
			recs = append(recs, telemetry.Record{Name: "audit/" + k, String: v})
		}
	}
	p := telemetry.Pack{Stream: "audit", Class: telemetry.ClassEvent, Time: e.Time, Records: recs}
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
