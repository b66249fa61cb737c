package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// memCounter is a monotonic counter in memory (the TPM NV counter's
// contract; trust/floor tests the real one against swtpm).
type memCounter struct {
	v    uint64
	made bool
}

func (c *memCounter) Value() (uint64, bool, error) {
	fresh := !c.made
	if fresh {
		c.made, c.v = true, 41 // a new TPM counter starts wherever the TPM's counters were
	}
	return c.v, fresh, nil
}

func (c *memCounter) Increment() (uint64, error) {
	if !c.made {
		return 0, errors.New("no counter")
	}
	c.v++
	return c.v, nil
}

// TestReplayedJournalRefused: a journal copied while the update waited for
// its reboot (validly authenticated: the engine wrote it) and put back
// after the commit would have the engine "roll back" the committed update
// to the old slot, below the floor. Bound to the TPM counter it is
// refused like a forged one: nothing in progress, the boot environment
// untouched, the device stays on the committed slot.
func TestReplayedJournalRefused(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := &memCounter{}
	withCounter := func(o *Options) { o.Counter = c }
	e := w.engine(withCounter)
	must(t, e.Install(ctx, w.src()))
	journal := filepath.Join(w.dir, "update.journal")
	old, err := os.ReadFile(journal)
	must(t, err)
	if s := w.boot(); s.Name != "B" {
		t.Fatalf("trial boot on %s", s.Name)
	}
	e = w.engine(withCounter)
	must(t, e.Resume(ctx))
	if st := e.Status(); st.State != StateCommitted {
		t.Fatalf("after resume: %+v", st)
	}
	must(t, os.WriteFile(journal, old, 0o600)) // the older journal put back
	before := w.vars()
	e = w.engine(withCounter)
	if st := e.Status(); st.State != StateIdle || !strings.Contains(st.JournalRejected, "counter") {
		t.Errorf("status with the older journal: state %s, rejected %q", st.State, st.JournalRejected)
	}
	must(t, e.Resume(ctx))
	if d := diffMaps(before, w.vars()); d != "" {
		t.Errorf("boot environment changed by the older journal: %s", d)
	}
	if s := w.boot(); s.Name != "B" {
		t.Errorf("the older journal rolled the device back to slot %s", s.Name)
	}
	if _, err := os.Stat(journal + ".rejected"); err != nil {
		t.Errorf("the older journal was not kept aside: %v", err)
	}
	// The engine goes on: its next journal is bound to the counter again.
	e = w.engine(withCounter)
	must(t, e.Install(ctx, w.src()))
	if j := w.engine(withCounter).Journal(); j.State != StateReboot || j.Counter != c.v {
		t.Errorf("next update: journal %s with counter %d, the counter is %d", j.State, j.Counter, c.v)
	}
}

// TestBindCounter: the latest journal holds the counter's value, or one
// more after a power cut between the journal and the increment (which is
// then done); anything else is refused; a counter just made binds what
// there is.
func TestBindCounter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		journal uint64
		fresh   bool
		trial   bool // the journal's trial boot is running
		ok      bool
		after   uint64 // the counter afterwards
	}{
		{"same", 50, false, false, true, 50},
		{"one ahead: power cut before the increment", 51, false, false, true, 51},
		{"older journal", 49, false, false, false, 50},
		{"older journal in a trial boot", 49, false, true, false, 50},
		{"much older", 3, false, false, false, 50},
		{"two ahead", 52, false, false, false, 50},
		{"no counter in the journal", 0, false, false, false, 50},
		{"no counter, its trial boot running (written by an older agent)", 0, false, true, true, 50},
		{"counter just made", 0, true, false, true, 41},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &memCounter{v: 50, made: !tc.fresh}
			_, err := bindCounter(c, &Journal{Counter: tc.journal}, func(*Journal) bool { return tc.trial })
			if (err == nil) != tc.ok || !tc.ok && !errors.Is(err, ErrJournalReplayed) {
				t.Errorf("bind: %v, want ok %v", err, tc.ok)
			}
			if c.v != tc.after {
				t.Errorf("counter %d, want %d", c.v, tc.after)
			}
		})
	}
}

// TestJournalOfAnAgentWithoutCounter: after a signed downgrade to an agent
// without the counter, that agent installs this one; the journal it wrote
// has no counter. This engine commits that update while its trial boot is
// running, and refuses the same journal once the trial is over.
func TestJournalOfAnAgentWithoutCounter(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	e := w.engine(nil) // the older agent: no counter
	must(t, e.Install(ctx, w.src()))
	journal := filepath.Join(w.dir, "update.journal")
	old, err := os.ReadFile(journal)
	must(t, err)
	if s := w.boot(); s.Name != "B" {
		t.Fatalf("trial boot on %s", s.Name)
	}
	c := &memCounter{v: 7, made: true} // made by this version before the downgrade
	withCounter := func(o *Options) { o.Counter = c }
	e = w.engine(withCounter)
	must(t, e.Resume(ctx))
	if st := e.Status(); st.State != StateCommitted || st.JournalRejected != "" {
		t.Fatalf("the update the older agent installed did not commit: %+v", st)
	}
	must(t, os.WriteFile(journal, old, 0o600))
	before := w.vars()
	e = w.engine(withCounter)
	must(t, e.Resume(ctx))
	if st := e.Status(); st.State != StateIdle || !strings.Contains(st.JournalRejected, "counter") {
		t.Errorf("the same journal after the trial: %+v", st)
	}
	if d := diffMaps(before, w.vars()); d != "" {
		t.Errorf("boot environment changed: %s", d)
	}
}
