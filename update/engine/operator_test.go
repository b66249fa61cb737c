package engine

import (
	"context"
	"errors"
	"testing"
)

// TestOperatorActions: commit is refused on the old slot, a second install
// is refused while one is in progress, and an operator rollback before the
// reboot restores the boot environment without rebooting.
func TestOperatorActions(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	e := w.engine(nil)
	must(t, e.Install(ctx, w.src()))
	if err := e.Commit(ctx); err == nil {
		t.Fatal("commit accepted while still running the old slot")
	}
	if err := e.Install(ctx, w.src()); !errors.Is(err, ErrInProgress) {
		t.Fatalf("second install: %v", err)
	}
	must(t, e.Rollback(ctx))
	j := e.Journal()
	if j.State != StateRolledBack || j.Reason != "reboot: rolled back by operator" {
		t.Fatalf("journal %s %q", j.State, j.Reason)
	}
	if w.reboots != 1 {
		t.Errorf("reboots = %d, want only the install's", w.reboots)
	}
	if v := w.vars(); v["upgrade_available"] != "0" || v["mender_boot_part"] != "2" {
		t.Fatalf("env: %v", v)
	}
	if s := w.boot(); s.Name != "A" {
		t.Fatalf("booted %s", s.Name)
	}
	// A new install after the rollback works and keeps nothing of the old one.
	must(t, e.Install(ctx, w.src()))
	if j := e.Journal(); j.Reason != "" || j.Entries[StateReboot] != 1 {
		t.Errorf("journal not reset: %+v", j)
	}
	if err := e.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Rollback(ctx); !errors.Is(err, ErrNoUpdate) {
		t.Errorf("rollback with nothing to roll back: %v", err)
	}
}
