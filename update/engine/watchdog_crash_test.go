package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
)

// neverReboots drives an update on a device whose reboot requests never
// reboot (the engine asks again, then disarms and fails) through crash.
// After a crash the process starts again; with powerCut the crash was a
// power cut and the board boots first (into the armed slot, if armed).
// Every run, like Run, resumes and then watches the requested reboot.
func neverReboots(t *testing.T, w *world, crash func(string), powerCut, unhealthy bool) State {
	t.Helper()
	ctx := context.Background()
	mod := func(o *Options) {
		if unhealthy {
			o.Health = []Check{SensorsUp(func(context.Context) error { return errors.New("no ECG") }, 0)}
		}
		o.RebootRetries = 1
		o.Reboot = func(context.Context) error { w.reboots++; return nil } // requested, never happens
	}
	w.crash = crash
	e := w.engine(mod)
	e.crash = crash
	cut := crashed(func() {
		if e.Install(ctx, w.src()) == nil {
			e.AwaitReboot(ctx)
		}
	})
	for range 12 {
		if cut && powerCut {
			w.boot() // checks the booted slot holds a good image
		}
		e = w.engine(mod)
		e.crash = crash
		cut = crashed(func() {
			if e.Resume(ctx) == nil {
				e.AwaitReboot(ctx)
			}
		})
		if st := e.Journal().State; st.Terminal() && !cut {
			return st
		}
	}
	t.Fatalf("no terminal state after 12 starts; journal %+v", w.engine(nil).Journal())
	return ""
}

// TestPowerCutsRebootNeverHappens is TestPowerCuts for an update whose
// reboot never happens: the process is killed (or the power cut) at
// every journaled transition, boot environment write and reboot request
// of the way through the re-request and the disarm. Every case ends with
// no trial boot armed: failed (or rolled back) with a reason and the old
// slot booted next, or, when a power cut booted the armed slot, that
// trial committed (if healthy; unhealthy, it rolls back and the rollback's
// reboot never happens either).
func TestPowerCutsRebootNeverHappens(t *testing.T) {
	var all []string
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		if final := neverReboots(t, w, func(p string) {
			if !strings.HasPrefix(p, "payload:") {
				all = append(all, p)
			}
		}, false, false); final != StateFailed {
			t.Fatalf("clean run ended %s", final)
		}
	})
	for _, want := range []string{"reboot", "reboot-overdue", "after:disarm", "disarmed-env", "after:failed"} {
		found := false
		for _, p := range all {
			found = found || p == want
		}
		if !found {
			t.Fatalf("crash point %q not passed: %v", want, all)
		}
	}
	for _, v := range []struct{ cutPower, unhealthy bool }{{false, false}, {true, false}, {true, true}} {
		cutPower, unhealthy := v.cutPower, v.unhealthy
		for idx, point := range all {
			t.Run(fmt.Sprintf("powercut=%v,unhealthy=%v/%d_%s", cutPower, unhealthy, idx, point), func(t *testing.T) {
				t.Parallel() // fsync-bound: overlap the waits
				synctest.Test(t, func(t *testing.T) {
					w := newWorld(t)
					n := 0
					final := neverReboots(t, w, func(p string) {
						if strings.HasPrefix(p, "payload:") {
							return
						}
						if n == idx {
							n++
							panic(powerCut{p})
						}
						n++
					}, cutPower, unhealthy)
					if n <= idx {
						t.Fatalf("crash point %d (%s) never reached", idx, point)
					}
					if v := w.vars(); v["upgrade_available"] == "1" {
						t.Errorf("ended %s with upgrade_available=1", final)
					}
					j := w.engine(nil).Journal()
					if !cutPower && final != StateFailed && (final != StateIdle || idx != 0) {
						// Nothing ever rebooted: the update cannot
						// have got further than giving up.
						t.Errorf("killed without a reboot, ended %s (%s)", final, j.Reason)
					}
					t.Logf("ended %s: %s", final, j.Reason)
					running := w.boot() // the next power cycle
					switch final {
					case StateCommitted:
						if !cutPower || unhealthy || running.Name != "B" {
							t.Errorf("committed (power cut %v) but running %s", cutPower, running.Name)
						}
					case StateFailed, StateRolledBack:
						if running.Name != "A" {
							t.Errorf("%s but the next boot runs %s", final, running.Name)
						}
						if j.Reason == "" {
							t.Errorf("%s without a reason", final)
						}
					case StateIdle:
						if running.Name != "A" || idx != 0 {
							t.Errorf("idle at crash point %d, running %s", idx, running.Name)
						}
					default:
						t.Errorf("final state %s", final)
					}
				})
			})
		}
	}
}
