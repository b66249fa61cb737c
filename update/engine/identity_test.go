package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"medagent/update/slot"
)

// TestRestartBeforeReboot: the agent restarts after arming and before the
// reboot (the clinical-use lock held it, the agent was restarted). Resume
// must see that the old slot still runs and reboot, never commit the slot
// that has not booted; the trial boot then commits as usual.
func TestRestartBeforeReboot(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	monitored := true
	hold := func(o *Options) {
		o.Monitoring = func() bool { return monitored }
		o.PollInterval = time.Millisecond
	}
	e := w.engine(hold)
	ictx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.Install(ictx, w.src()) }()
	waitPending(t, e)
	cancel() // the agent stops while the reboot is held back
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("install ended with %v, want context.Canceled", err)
	}
	if w.reboots != 0 {
		t.Fatal("rebooted while a patient was monitored")
	}
	// The agent starts again, still on A (medagent.slot=a on the command line).
	e = w.engine(hold)
	rctx, rcancel := context.WithCancel(ctx)
	go func() { done <- e.Resume(rctx) }()
	waitPending(t, e)
	if err := e.Commit(ctx); !errors.Is(err, ErrNotBooted) {
		t.Errorf("commit while the reboot is pending: %v, want ErrNotBooted", err)
	}
	rcancel()
	<-done
	if st := e.Status(); st.JournalState != StateReboot {
		t.Fatalf("after the restart the journal is in %s, want reboot", st.JournalState)
	}
	if v := w.vars(); v["upgrade_available"] != "1" || v["mender_boot_part"] != "3" {
		t.Fatalf("env after the restart: %v", v)
	}
	// Offline commit (no install running) before the reboot: refused too.
	if err := w.engine(nil).Commit(ctx); !errors.Is(err, ErrNotBooted) || !strings.Contains(err.Error(), "has not booted yet") {
		t.Fatalf("commit on slot A before the reboot: %v", err)
	}
	// The monitoring ends: the resumed engine reboots into B, which commits.
	monitored = false
	must(t, w.engine(hold).Resume(ctx))
	if w.reboots != 1 {
		t.Fatalf("reboots = %d, want 1", w.reboots)
	}
	if s := w.boot(); s.Name != "B" {
		t.Fatalf("trial boot on %s", s.Name)
	}
	must(t, w.engine(nil).Resume(ctx))
	if st := w.engine(nil).Status(); st.State != StateCommitted {
		t.Fatalf("after the trial boot: %s (%s)", st.State, st.Reason)
	}
}

// TestNoSlotIdentity: with no positive identity of the running slot (a
// dm-verity or overlay root, a boot script that passes no medagent.slot),
// the engine neither installs nor commits; mender_boot_part is no evidence.
func TestNoSlotIdentity(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	must(t, w.engine(nil).Install(ctx, w.src()))
	if s := w.boot(); s.Name != "B" {
		t.Fatalf("trial boot on %s", s.Name)
	}
	// The kernel command line of a verity root: names no slot.
	must(t, os.WriteFile(w.slots.CmdlinePath, []byte("root=/dev/dm-0 ro quiet\n"), 0o644))
	e := w.engine(nil)
	if err := e.Resume(ctx); !errors.Is(err, slot.ErrUnknownSlot) {
		t.Fatalf("resume without slot identity: %v, want ErrUnknownSlot", err)
	}
	if err := e.Commit(ctx); !errors.Is(err, slot.ErrUnknownSlot) || !strings.Contains(err.Error(), "refusing to commit") {
		t.Fatalf("commit without slot identity: %v", err)
	}
	if st := e.Status(); st.State != StateReboot {
		t.Fatalf("state %s, want reboot (untouched)", st.State)
	}
	if v := w.vars(); v["upgrade_available"] != "1" {
		t.Fatalf("upgrade_available cleared without slot identity: %v", v)
	}
	// With the boot loader's medagent.slot=b the same boot commits.
	must(t, os.WriteFile(w.slots.CmdlinePath, []byte("root=/dev/dm-0 ro quiet medagent.slot=b\n"), 0o644))
	must(t, w.engine(nil).Resume(ctx))
	if st := w.engine(nil).Status(); st.State != StateCommitted {
		t.Fatalf("with medagent.slot=b: %s (%s)", st.State, st.Reason)
	}
	// A contradiction (medagent.slot=a, root= names B) is no identity.
	must(t, os.WriteFile(w.slots.CmdlinePath, []byte("root="+w.slots.B.Device+" medagent.slot=a\n"), 0o644))
	if err := w.engine(nil).Install(ctx, w.src()); !errors.Is(err, slot.ErrUnknownSlot) {
		t.Fatalf("install with contradicting slot identity: %v", err)
	}
}

func waitPending(t *testing.T, e *Engine) {
	t.Helper()
	for i := 0; e.Status().State != StateRebootPending; i++ {
		if i > 10000 {
			t.Fatalf("no reboot-pending: %+v", e.Status())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestStateSurvivesACorruptCopy: the engine writes every boot state into
// both copies of the redundant environment, so that damage to either copy
// afterwards still boots that state: the trial after arming, the new slot
// without a trial after the commit (not the trial before it, which the
// boot loader would count past bootlimit and roll back).
func TestStateSurvivesACorruptCopy(t *testing.T) {
	for _, stage := range []string{"armed", "committed"} {
		for copyNo := range 2 {
			t.Run(fmt.Sprintf("%s/copy%d", stage, copyNo+1), func(t *testing.T) {
				w := newWorld(t)
				ctx := context.Background()
				must(t, w.engine(nil).Install(ctx, w.src()))
				want := "B"
				if stage == "committed" {
					w.boot()
					must(t, w.engine(nil).Resume(ctx))
				}
				loc := w.env.Config().Copies[copyNo]
				f, err := os.OpenFile(loc.Path, os.O_RDWR, 0)
				must(t, err)
				_, err = f.WriteAt([]byte("garbage"), loc.Offset+100)
				f.Close()
				must(t, err)
				v := w.vars()
				if s := w.boot(); s.Name != want {
					t.Fatalf("boot after damage to copy %d: %s, want %s (env %v)", copyNo+1, s.Name, want, v)
				}
				after := w.vars()
				switch stage {
				case "armed":
					if after["upgrade_available"] != "1" || after["bootcount"] != "1" {
						t.Errorf("not a trial boot: %v", after)
					}
				case "committed":
					if after["upgrade_available"] != "0" || after["mender_boot_part"] != "3" {
						t.Errorf("committed state lost: %v", after)
					}
				}
			})
		}
	}
}
