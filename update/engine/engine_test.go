package engine

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestHappyPath(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	e := w.engine(nil)
	must(t, e.Install(ctx, w.src()))
	if w.reboots != 1 {
		t.Fatalf("reboots = %d, want 1", w.reboots)
	}
	if st := e.Status(); st.State != StateReboot || st.ToSlot != "B" || st.Artifact != "release-2" {
		t.Fatalf("status after install: %+v", st)
	}
	v := w.vars()
	if v["upgrade_available"] != "1" || v["bootcount"] != "0" || v["mender_boot_part"] != "3" || v["mender_boot_part_hex"] != "3" {
		t.Fatalf("env after install: %v", v)
	}
	if s := w.boot(); s.Name != "B" {
		t.Fatalf("trial boot on %s", s.Name)
	}
	healthRan := 0
	e = w.engine(func(o *Options) {
		o.Health = []Check{SensorsUp(func(context.Context) error { healthRan++; return nil }, 0),
			CommandCheck("true", 0, "true")}
	})
	must(t, e.Resume(ctx))
	st := e.Status()
	if st.State != StateCommitted || healthRan != 1 {
		t.Fatalf("after resume: state %s, health ran %d", st.State, healthRan)
	}
	if st.Installed["artifact_name"] != "release-2" || st.Installed["rootfs-image.version"] != "release-2" {
		t.Errorf("installed provides: %v", st.Installed)
	}
	if v := w.vars(); v["upgrade_available"] != "0" || v["mender_boot_part"] != "3" {
		t.Fatalf("env after commit: %v", v)
	}
	if s := w.boot(); s.Name != "B" {
		t.Fatalf("boot after commit on %s", s.Name)
	}
	// Resume on a committed journal does nothing.
	must(t, w.engine(nil).Resume(ctx))
	if w.reboots != 1 {
		t.Errorf("reboots = %d", w.reboots)
	}
}

func TestHealthFailureRollsBack(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	must(t, w.engine(nil).Install(ctx, w.src()))
	w.boot()
	e := w.engine(func(o *Options) {
		o.Health = []Check{BrokerReachable(func(context.Context) error { return errors.New("connection refused") }, 0)}
	})
	if err := e.Resume(ctx); err != nil {
		t.Fatalf("resume before the rollback reboot: %v", err)
	}
	if st := e.Status(); st.State != StateRollbackBoot || w.reboots != 2 {
		t.Fatalf("state %s, reboots %d; want rollback-reboot and 2", st.State, w.reboots)
	}
	if v := w.vars(); v["upgrade_available"] != "0" || v["mender_boot_part"] != "2" {
		t.Fatalf("env after rollback: %v", v)
	}
	if s := w.boot(); s.Name != "A" {
		t.Fatalf("booted %s after rollback", s.Name)
	}
	e = w.engine(nil)
	err := e.Resume(ctx)
	if !errors.Is(err, ErrRolledBack) {
		t.Fatalf("err = %v, want ErrRolledBack", err)
	}
	j := e.Journal()
	if j.State != StateRolledBack || !strings.Contains(j.Reason, "broker reachable") || !strings.Contains(j.Reason, "connection refused") {
		t.Fatalf("journal %s, reason %q", j.State, j.Reason)
	}
	if len(j.Installed) != 0 {
		t.Errorf("installed provides changed: %v", j.Installed)
	}
}

// TestBootloaderFallback: the new slot never comes up; U-Boot's bootcount
// falls back and the engine records it.
func TestBootloaderFallback(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	must(t, w.engine(nil).Install(ctx, w.src()))
	w.board.Comes = comesOnly("A")
	if s := w.boot(); s.Name != "A" {
		t.Fatalf("booted %s", s.Name)
	}
	if w.board.Boots != 3 { // initial boot + hang on B + fallback to A
		t.Errorf("boots = %d, want 3", w.board.Boots)
	}
	e := w.engine(nil)
	if err := e.Resume(ctx); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("err = %v", err)
	}
	if j := e.Journal(); !strings.Contains(j.Reason, "boot loader fell back") {
		t.Errorf("reason %q", j.Reason)
	}
	if v := w.vars(); v["upgrade_available"] != "0" || v["mender_boot_part"] != "2" {
		t.Errorf("env: %v", v)
	}
}

func TestTamperedArtifact(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name          string
		mod           func(w *world, o *Options)
		slotUntouched bool
		reason        string
	}{
		{"bad signature", func(w *world, o *Options) {
			o.Open = fakeOpener("evil", [32]byte{}, payloadSize, errSignature)
		}, true, "bad signature"},
		{"payload changed", func(w *world, o *Options) {
			w.newImg = bytes.Clone(w.newImg)
			w.newImg[1000] ^= 1 // after the opener computed the signed checksum
		}, false, "checksum mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			before := w.vars()
			slotB, _ := os.ReadFile(w.slots.B.Device)
			e := w.engine(func(o *Options) { tc.mod(w, o) })
			err := e.Install(ctx, w.src())
			if !errors.Is(err, ErrFailed) {
				t.Fatalf("err = %v, want ErrFailed", err)
			}
			j := e.Journal()
			if j.State != StateFailed || !strings.Contains(j.Reason, tc.reason) {
				t.Fatalf("journal %s, reason %q; want failed with %q", j.State, j.Reason, tc.reason)
			}
			if d := diffMaps(before, w.vars()); d != "" {
				t.Errorf("boot environment changed: %s", d)
			}
			if after, _ := os.ReadFile(w.slots.B.Device); tc.slotUntouched && !bytes.Equal(after, slotB) {
				t.Error("inactive slot changed")
			}
			if w.reboots != 0 {
				t.Error("rebooted")
			}
			if s := w.boot(); s.Name != "A" {
				t.Errorf("booted %s", s.Name)
			}
		})
	}
}

func diffMaps(a, b map[string]string) string {
	var d []string
	for k, v := range a {
		if b[k] != v {
			d = append(d, k+": "+v+" -> "+b[k])
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			d = append(d, k+": (unset) -> "+v)
		}
	}
	return strings.Join(d, ", ")
}

// TestJournalVersion: a journal of another format version, or an old
// unauthenticated one, fails its check: the engine starts idle, reports
// why, and keeps the file aside.
func TestJournalVersion(t *testing.T) {
	w := newWorld(t)
	o := w.options()
	for _, b := range []string{`{"version": 3, "state": "idle"}`, `{"state": "idle"}`, `{"version": 1, "state": "arm"}`} {
		must(t, os.WriteFile(o.Journal, []byte(b), 0o600))
		e, err := New(o)
		must(t, err)
		if st := e.Status(); st.State != StateIdle || st.JournalRejected == "" {
			t.Errorf("%s: status %+v", b, st)
		}
	}
	// Once a new install wrote its own journal, status stops reporting
	// the rejected one (it stays aside as .rejected).
	must(t, os.WriteFile(o.Journal, []byte(`{"version": 1, "state": "arm"}`), 0o600))
	e, err := New(o)
	must(t, err)
	if st := e.Status(); st.JournalRejected == "" {
		t.Fatalf("status %+v", st)
	}
	must(t, e.Install(context.Background(), w.src()))
	if st := e.Status(); st.JournalRejected != "" || st.JournalCheck == CheckFailed {
		t.Errorf("after a new install: status still rejected: %+v", st)
	}
	if _, err := os.Stat(o.Journal + ".rejected"); err != nil {
		t.Errorf("the rejected journal is not kept aside: %v", err)
	}
}

// TestLoopBreaker: an agent that keeps dying in the health state (no
// reboot in between, so U-Boot's counter does not help) ends in rollback.
func TestLoopBreaker(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	must(t, w.engine(nil).Install(ctx, w.src()))
	w.boot()
	for i := 0; i < DefaultMaxStateEntries; i++ {
		e := w.engine(nil)
		e.crash = crashAtPoint("after:" + string(StateHealth))
		if !crashed(func() { e.Resume(ctx) }) {
			t.Fatalf("restart %d: no crash", i)
		}
	}
	e := w.engine(nil)
	must(t, e.Resume(ctx)) // rollback reboot requested
	j := e.Journal()
	if j.State != StateRollbackBoot || !strings.Contains(j.Reason, "loop breaker: state verify-boot entered 4 times") {
		t.Fatalf("journal %s, reason %q", j.State, j.Reason)
	}
	if s := w.boot(); s.Name != "A" {
		t.Fatalf("booted %s", s.Name)
	}
	if err := w.engine(nil).Resume(ctx); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("err = %v", err)
	}
}
