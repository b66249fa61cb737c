package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"medagent/update/slot"
)

// powerCut is what the crash seam panics with.
type powerCut struct{ point string }

func crashAtPoint(point string) func(string) {
	return func(p string) {
		if p == point {
			panic(powerCut{p})
		}
	}
}

// crashed runs f and reports whether it died of a simulated power cut.
func crashed(f func()) (cut bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(powerCut); !ok {
				panic(r)
			}
			cut = true
		}
	}()
	f()
	return false
}

func comesOnly(name string) func(slot.Slot) bool {
	return func(s slot.Slot) bool { return s.Name == name }
}

// scenario drives a device through an update: install, then boot and
// resume until the journal is terminal. crash is installed in every engine
// instance; when it cuts the power the device boots again (power cut =
// reboot) and a fresh engine resumes from the files.
type scenario struct {
	healthy bool
}

func (sc scenario) run(t *testing.T, w *world, crash func(string)) State {
	t.Helper()
	ctx := context.Background()
	mod := func(o *Options) {
		if !sc.healthy {
			o.Health = []Check{SensorsUp(func(context.Context) error { return errors.New("no ECG") }, 0)}
		}
	}
	w.crash = crash
	e := w.engine(mod)
	e.crash = crash
	crashed(func() { e.Install(ctx, w.src()) })
	for i := 0; i < 12; i++ {
		w.boot() // checks the booted slot holds a good image
		e = w.engine(mod)
		e.crash = crash
		rebootsBefore := w.reboots
		cut := crashed(func() { e.Resume(ctx) })
		if st := e.Journal().State; st.Terminal() && !cut && w.reboots == rebootsBefore {
			return st
		}
	}
	t.Fatalf("no terminal state after 12 boots; journal %+v", w.engine(nil).Journal())
	return ""
}

// points records every crash point a clean run passes.
func (sc scenario) points(t *testing.T) []string {
	var pts []string
	w := newWorld(t)
	sc.run(t, w, func(p string) { pts = append(pts, p) })
	return pts
}

// TestPowerCuts cuts the power at every journaled transition, in the
// middle of every boot environment write (leaving a torn copy) and at
// random points inside the payload write, for an
// update that commits and one that rolls back. After each cut the
// simulated U-Boot boots, a fresh engine resumes, and the test checks that
// every boot ran a good image and the update ended committed, rolled back
// or failed with the device on a good slot and no trial boot armed.
func TestPowerCuts(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("payload crash points seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, sc := range []scenario{{healthy: true}, {healthy: false}} {
		t.Run(fmt.Sprintf("healthy=%v", sc.healthy), func(t *testing.T) {
			all := sc.points(t)
			var pts []int
			var payload []int
			for i, p := range all {
				if strings.HasPrefix(p, "payload:") {
					payload = append(payload, i)
				} else {
					pts = append(pts, i)
				}
			}
			if len(payload) < 10 || len(pts) < 15 {
				t.Fatalf("suspiciously few crash points: %d payload, %d others: %v", len(payload), len(pts), all)
			}
			for k := 0; k < 6; k++ {
				pts = append(pts, payload[rng.IntN(len(payload))])
			}
			for _, idx := range pts {
				t.Run(fmt.Sprintf("%d_%s", idx, all[idx]), func(t *testing.T) {
					t.Parallel() // fsync-bound: overlap the waits
					w := newWorld(t)
					n := 0
					final := sc.run(t, w, func(p string) {
						if n == idx {
							n++
							panic(powerCut{p})
						}
						n++
					})
					if n <= idx {
						t.Fatalf("crash point %d (%s) never reached", idx, all[idx])
					}
					v := w.vars()
					if v["upgrade_available"] == "1" {
						t.Errorf("ended %s with upgrade_available=1", final)
					}
					running := w.boot()
					switch final {
					case StateCommitted:
						if !sc.healthy {
							t.Errorf("unhealthy update committed")
						}
						if running.Name != "B" {
							t.Errorf("committed but running %s", running.Name)
						}
					case StateRolledBack, StateFailed:
						if running.Name != "A" {
							t.Errorf("%s but running %s", final, running.Name)
						}
						if r := w.engine(nil).Journal().Reason; r == "" {
							t.Errorf("%s without a reason", final)
						}
					case StateIdle:
						// Cut before the update journaled anything.
						if running.Name != "A" || idx != 0 {
							t.Errorf("idle at crash point %d, running %s", idx, running.Name)
						}
					default:
						t.Errorf("final state %s", final)
					}
					if sc.healthy && !strings.HasPrefix(all[idx], "payload:") && final != StateCommitted {
						t.Logf("power cut at %s ended %s: %s", all[idx], final, w.engine(nil).Journal().Reason)
					}
				})
			}
		})
	}
}
