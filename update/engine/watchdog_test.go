package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// rebootWatch is a world whose reboot requests never reboot anything
// unless the test boots the board: the reboot unit failed, an inhibitor
// holds it, the request was lost.
type rebootWatch struct {
	w          *world
	requests   atomic.Int32
	fail       atomic.Bool // the reboot command exits non-zero
	monitoring atomic.Bool
	mu         sync.Mutex
	audits     []string
}

func newRebootWatch(t *testing.T) *rebootWatch {
	return &rebootWatch{w: newWorld(t)}
}

func (rw *rebootWatch) engine(mod func(*Options)) *Engine {
	return rw.w.engine(func(o *Options) {
		o.Reboot = func(context.Context) error {
			rw.requests.Add(1)
			if rw.fail.Load() {
				return errors.New(`"/sbin/reboot": exit status 1: Operation inhibited by "backup"`)
			}
			return nil
		}
		o.Monitoring = rw.monitoring.Load
		o.Audit = func(kind string, _ map[string]string) {
			rw.mu.Lock()
			rw.audits = append(rw.audits, kind)
			rw.mu.Unlock()
		}
		if mod != nil {
			mod(o)
		}
	})
}

// run starts e.Run like the agent does and returns its stop.
func run(t *testing.T, e *Engine) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Run(ctx)
	}()
	return func() { cancel(); <-done }
}

// after lets d of fake time pass and every goroutine of the bubble settle.
func after(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// wantSlotA fails t unless the boot environment boots slot A (part 2)
// with no trial armed.
func (rw *rebootWatch) wantSlotA(t *testing.T) {
	t.Helper()
	if v := rw.w.vars(); v["upgrade_available"] != "0" || v["mender_boot_part"] != "2" {
		t.Fatalf("env: %v", v)
	}
}

func (rw *rebootWatch) wantRequests(t *testing.T, n int32, when string) {
	t.Helper()
	if got := rw.requests.Load(); got != n {
		t.Fatalf("%s: %d reboot requests, want %d", when, got, n)
	}
}

// TestRebootHappens: the reboot ends the process (the agent is stopped
// before the timeout): nothing is asked again and the trial boot commits.
func TestRebootHappens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rw := newRebootWatch(t)
		e := rw.engine(nil)
		stop := run(t, e)
		must(t, e.Install(t.Context(), rw.w.src()))
		after(time.Minute)
		rw.wantRequests(t, 1, "after the install")
		st := e.Status()
		if st.State != StateReboot || st.RebootRequests != 1 || st.RebootProblem != "" || st.RebootRequestedAt.IsZero() {
			t.Fatalf("status after the request: %+v", st)
		}
		stop() // systemd stops the agent: the reboot is under way
		after(time.Hour)
		rw.wantRequests(t, 1, "after the agent stopped")
		if s := rw.w.boot(); s.Name != "B" {
			t.Fatalf("trial boot on %s", s.Name)
		}
		e = rw.engine(nil)
		stop = run(t, e)
		defer stop()
		after(time.Second)
		if st := e.Status(); st.State != StateCommitted || st.RebootProblem != "" {
			t.Fatalf("after the trial boot: %+v", st)
		}
		after(time.Hour)
		rw.wantRequests(t, 1, "after the commit")
	})
}

// TestRebootNeverHappens: the request returns and nothing reboots. After
// the timeout the engine says so and asks again (the clinical-use lock
// still holds it back), then gives up: boot environment back to slot A,
// update failed with the reason, reported.
func TestRebootNeverHappens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rw := newRebootWatch(t)
		e := rw.engine(func(o *Options) { o.RebootTimeout = 3 * time.Minute; o.RebootRetries = 2 })
		stop := run(t, e)
		defer stop()
		must(t, e.Install(t.Context(), rw.w.src()))
		after(3*time.Minute - time.Second)
		rw.wantRequests(t, 1, "just before the timeout")
		if st := e.Status(); st.RebootProblem != "" {
			t.Fatalf("problem before the timeout: %q", st.RebootProblem)
		}
		// A patient is connected meanwhile: the second request waits.
		rw.monitoring.Store(true)
		after(2 * time.Second)
		rw.wantRequests(t, 1, "after the timeout, patient monitored")
		st := e.Status()
		if st.State != StateRebootPending || st.PendingReason != "patient monitored" ||
			!strings.Contains(st.RebootProblem, "did not happen within 3m0s of request 1 of 3") {
			t.Fatalf("status while the second request waits for the lock: %+v", st)
		}
		after(time.Hour)
		rw.wantRequests(t, 1, "an hour later, patient still monitored")
		rw.monitoring.Store(false)
		after(DefaultPollInterval)
		rw.wantRequests(t, 2, "after monitoring ended")
		if st := e.Status(); st.State != StateReboot || st.RebootRequests != 2 {
			t.Fatalf("after the second request: %+v", st)
		}
		after(3 * time.Minute)
		rw.wantRequests(t, 3, "after the second timeout")
		if v := rw.w.vars(); v["upgrade_available"] != "1" || v["mender_boot_part"] != "3" {
			t.Fatalf("disarmed too early: %v", v)
		}
		after(3 * time.Minute)
		rw.wantRequests(t, 3, "after giving up")
		j := e.Journal()
		if j.State != StateFailed || !strings.Contains(j.Reason, "did not happen within 3m0s of request 3 of 3") ||
			!strings.Contains(j.Reason, "boot environment back to slot A") {
			t.Fatalf("journal %s, reason %q", j.State, j.Reason)
		}
		if j.Entries[StateDisarm] != 1 {
			t.Errorf("disarm entered %d times", j.Entries[StateDisarm])
		}
		if v := rw.w.vars(); v["upgrade_available"] != "0" || v["mender_boot_part"] != "2" || v["bootcount"] != "0" {
			t.Fatalf("env after giving up: %v", v)
		}
		rw.mu.Lock()
		audits := strings.Join(rw.audits, ",")
		rw.mu.Unlock()
		if !strings.Contains(audits, "update.refused") {
			t.Errorf("audit trail: %s", audits)
		}
		// An unrelated power cycle later boots the old slot, and the
		// engine has nothing left to do.
		if s := rw.w.boot(); s.Name != "A" {
			t.Fatalf("booted %s after giving up", s.Name)
		}
		e2 := rw.engine(nil)
		if err := e2.Resume(t.Context()); err != nil {
			t.Fatal(err)
		}
		if st := e2.Status(); st.State != StateFailed || st.RebootProblem != "" {
			t.Fatalf("status after the power cycle: %+v", st)
		}
		after(time.Hour)
		rw.wantRequests(t, 3, "after the power cycle")
	})
}

// TestRebootCommandFails: a reboot command that exits non-zero (an
// inhibitor) is asked again like one that does nothing, and the last
// error is in the reason.
func TestRebootCommandFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rw := newRebootWatch(t)
		rw.fail.Store(true)
		e := rw.engine(func(o *Options) { o.RebootRetries = -1 })
		stop := run(t, e)
		defer stop()
		must(t, e.Install(t.Context(), rw.w.src()))
		synctest.Wait()
		if st := e.Status(); !strings.Contains(st.RebootProblem, "reboot request 1 of 1 failed") || !strings.Contains(st.RebootProblem, "inhibited") {
			t.Fatalf("status after the failed request: %+v", st)
		}
		after(DefaultRebootTimeout)
		rw.wantRequests(t, 1, "no retries")
		j := e.Journal()
		if j.State != StateFailed || !strings.Contains(j.Reason, "inhibited") {
			t.Fatalf("journal %s, reason %q", j.State, j.Reason)
		}
		rw.wantSlotA(t)
	})
}

// TestRebootCommandOutputBounded: a reboot command that fails with a huge
// output cannot grow the journal past what the engine reads back.
func TestRebootCommandOutputBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rw := newRebootWatch(t)
		e := rw.engine(func(o *Options) {
			o.Reboot = func(context.Context) error {
				rw.requests.Add(1)
				return errors.New("reboot: " + strings.Repeat("é", 2<<20))
			}
		})
		stop := run(t, e)
		defer stop()
		must(t, e.Install(t.Context(), rw.w.src()))
		after(3 * DefaultRebootTimeout)
		rw.wantRequests(t, 3, "after giving up")
		e2 := rw.engine(nil) // reads the journal back
		j := e2.Journal()
		if j.State != StateFailed || len(j.Reason) > 4<<10 || !strings.Contains(j.Reason, "reboot: éé") {
			t.Fatalf("journal %s, reason of %d bytes", j.State, len(j.Reason))
		}
		if st := e2.Status(); st.JournalRejected != "" {
			t.Fatalf("journal rejected: %s", st.JournalRejected)
		}
	})
}

// TestRebootWaitSurvivesRestart: the process is killed while it waits for
// the reboot; the next start waits out the rest of the timeout (no new
// request at once, none lost), then asks again and gives up as before.
func TestRebootWaitSurvivesRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rw := newRebootWatch(t)
		mod := func(o *Options) { o.RebootTimeout = 4 * time.Minute; o.RebootRetries = 1 }
		e := rw.engine(mod)
		must(t, e.Install(t.Context(), rw.w.src())) // no Run: killed right after
		after(3 * time.Minute)
		e = rw.engine(mod)
		stop := run(t, e)
		defer stop()
		after(time.Minute - time.Second)
		rw.wantRequests(t, 1, "before the journaled deadline")
		if st := e.Status(); st.State != StateReboot || st.RebootRequests != 1 {
			t.Fatalf("status after the restart: %+v", st)
		}
		after(2 * time.Second)
		rw.wantRequests(t, 2, "after the journaled deadline")
		after(4 * time.Minute)
		if j := e.Journal(); j.State != StateFailed {
			t.Fatalf("journal %s %q", j.State, j.Reason)
		}
		rw.wantSlotA(t)
	})
}

// TestRebootForced: while a patient is monitored only the technician's
// force lets a request through, and a force during the wait asks again at
// once; without the force no request is made while monitored, and giving
// up needs no reboot.
func TestRebootForced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rw := newRebootWatch(t)
		rw.monitoring.Store(true)
		e := rw.engine(func(o *Options) { o.RebootRetries = 1 })
		stop := run(t, e)
		defer stop()
		done := make(chan error, 1)
		go func() { done <- e.Install(t.Context(), rw.w.src()) }()
		after(time.Hour)
		rw.wantRequests(t, 0, "patient monitored")
		if st := e.Status(); st.State != StateRebootPending {
			t.Fatalf("status: %+v", st)
		}
		e.ForceReboot()
		synctest.Wait()
		must(t, <-done)
		rw.wantRequests(t, 1, "forced")
		// The force was spent by that request: the wait is not cut short.
		after(DefaultRebootTimeout / 2)
		rw.wantRequests(t, 1, "half the timeout after the forced request")
		// A new force asks again at once, patient or not.
		e.ForceReboot()
		synctest.Wait()
		rw.wantRequests(t, 2, "forced again during the wait")
		after(DefaultRebootTimeout)
		rw.wantRequests(t, 2, "after giving up")
		if j := e.Journal(); j.State != StateFailed {
			t.Fatalf("journal %s %q", j.State, j.Reason)
		}
		rw.wantSlotA(t)
	})
}

// TestRollbackRebootNeverHappens: the reboot into the old slot after a
// failed health check never happens. The engine asks again, then ends
// failed saying that the uncommitted slot runs until the next reboot
// (which boots the old one), and refuses a new install until then: it
// would overwrite the slot the device boots next.
func TestRollbackRebootNeverHappens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rw := newRebootWatch(t)
		mod := func(o *Options) {
			o.RebootRetries = 1
			o.Health = []Check{SensorsUp(func(context.Context) error { return errors.New("no ECG") }, 0)}
		}
		must(t, rw.engine(mod).Install(t.Context(), rw.w.src()))
		if s := rw.w.boot(); s.Name != "B" {
			t.Fatalf("trial boot on %s", s.Name)
		}
		e := rw.engine(mod)
		stop := run(t, e)
		defer stop()
		synctest.Wait()
		if st := e.Status(); st.State != StateRollbackBoot || st.RebootRequests != 1 {
			t.Fatalf("after the failed health check: %+v", st)
		}
		rw.wantRequests(t, 2, "install and rollback")
		after(DefaultRebootTimeout)
		rw.wantRequests(t, 3, "rollback reboot asked again")
		after(DefaultRebootTimeout)
		j := e.Journal()
		if j.State != StateFailed || !strings.Contains(j.Reason, "no ECG") {
			t.Fatalf("journal %s, reason %q", j.State, j.Reason)
		}
		if !strings.Contains(j.Reason, "rollback-reboot: reboot into slot A did not happen within 5m0s of request 2 of 2") ||
			!strings.Contains(j.Reason, "slot B (never committed) runs until the next reboot") {
			t.Errorf("reason does not say the rollback's reboot never happened: %q", j.Reason)
		}
		rw.wantSlotA(t)
		if err := e.Install(t.Context(), rw.w.src()); !errors.Is(err, ErrInProgress) || !strings.Contains(err.Error(), "reboot first") {
			t.Fatalf("install while slot B runs and A boots next: %v", err)
		}
		if s := rw.w.boot(); s.Name != "A" {
			t.Fatalf("next boot on %s", s.Name)
		}
	})
}
