package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"medagent/acquire/simbench"
	"medagent/internal/authfile"
	"medagent/spool"
	"medagent/telemetry"
	"medagent/trust/audit"
)

// TestAuditTrailWired: with updates on, the acquire role keeps the audit
// trail beside the journal; a refused install (not an artifact) leaves a
// checked entry, which is also spooled on stream "audit".
func TestAuditTrailWired(t *testing.T) {
	cfg := testConfig(t)
	fx := newUpdateFixture(t, &cfg)
	cfg.Update.Keys = []string{fx.pubFile}
	cfg.Update.RebootCommand = []string{"true"}
	cfg.Update.InstallDir = fx.dir
	a, err := New(Options{Config: cfg, Role: RoleAll, Logger: quiet, Bench: simbench.New})
	if err != nil {
		t.Fatal(err)
	}
	if a.aud == nil {
		t.Fatal("no audit trail")
	}
	f, err := os.Open(filepath.Join(fx.dir, "rootfs.ext4")) // not an artifact: refused
	if err != nil {
		t.Fatal(err)
	}
	a.upd.Install(context.Background(), f)
	f.Close()
	a.close()
	key, err := loadStateKey(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := audit.Verify(fx.dir, authfile.DeriveKey(key, "audit log"))
	if !r.OK() {
		t.Fatalf("trail: %v", r.Problems)
	}
	var kinds []string
	for _, e := range r.Entries {
		kinds = append(kinds, e.Kind)
	}
	if !strings.Contains(strings.Join(kinds, " "), "update.refused") {
		t.Fatalf("entries %q, want update.refused", kinds)
	}
	// The entry is in the spool for the uplink to publish.
	sk, err := os.ReadFile(cfg.Spool.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := spool.OpenReader(spool.Options{Dir: cfg.Spool.Dir, Key: sk})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		rec, err := rd.Next(ctx)
		cancel()
		if err != nil {
			t.Fatalf("no audit event in the spool: %v", err)
		}
		p, err := telemetry.Unmarshal(rec.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if p.Stream == "audit" && p.Class == telemetry.ClassEvent {
			return
		}
	}
}
