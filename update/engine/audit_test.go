package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"strings"
	"sync"
	"testing"
)

// auditLog records the engine's audit events.
type auditLog struct {
	mu sync.Mutex
	ev []string // "kind field=value ..."
}

func (a *auditLog) record(kind string, f map[string]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ev = append(a.ev, kind+" artifact="+f["artifact"]+" reason="+f["reason"]+" version="+f["version"])
}

func (a *auditLog) has(t *testing.T, kind, detail string) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.ev {
		if strings.HasPrefix(e, kind+" ") && strings.Contains(e, detail) {
			return
		}
	}
	t.Errorf("no %s event with %q; events: %q", kind, detail, a.ev)
}

// TestAuditEvents: every refused case leaves an entry (swapped payload,
// forged journal, older version), and a good update records its start,
// commit and the raised floor.
func TestAuditEvents(t *testing.T) {
	ctx := context.Background()
	t.Run("swapped payload", func(t *testing.T) {
		w := newWorld(t)
		var a auditLog
		evil := bytes.Clone(w.newImg)
		evil[100] ^= 1
		w.engine(func(o *Options) { o.Audit = a.record }).Install(ctx, bytes.NewReader(evil))
		a.has(t, "update.started", "artifact=release-2")
		a.has(t, "update.refused", "invalidated")
	})
	t.Run("forged journal", func(t *testing.T) {
		w := newWorld(t)
		var a auditLog
		o := w.options()
		must(t, os.WriteFile(o.Journal, []byte(`{"version":1,"state":"arm"}`), 0o600))
		w.engine(func(o *Options) { o.Audit = a.record })
		a.has(t, "update.journal_rejected", "failed its check")
	})
	t.Run("older version", func(t *testing.T) {
		w := newWorld(t)
		raise(t, w, "3.2.0")
		var a auditLog
		w.engine(func(o *Options) {
			o.Audit = a.record
			o.Open = fakeOpener("release-1.0.0", sha256.Sum256(w.newImg), int64(len(w.newImg)), nil)
		}).Install(ctx, w.src())
		a.has(t, "update.refused", "floor is 3.2.0")
	})
	t.Run("committed", func(t *testing.T) {
		w := newWorld(t)
		var a auditLog
		mod := func(o *Options) {
			o.Audit = a.record
			o.Open = fakeOpener("release-3.0", sha256.Sum256(w.newImg), int64(len(w.newImg)), nil)
		}
		must(t, w.engine(mod).Install(ctx, w.src()))
		w.boot()
		must(t, w.engine(mod).Resume(ctx))
		a.has(t, "update.committed", "version=3.0")
		a.has(t, "update.floor_raised", "version=3.0")
	})
}
