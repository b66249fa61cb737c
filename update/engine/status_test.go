package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Read is the counter without side effects (floor.Counter.Read).
func (c *memCounter) Read() (uint64, bool, error) { return c.v, c.made, nil }

// TestStatusReplayedJournal: "update status" without an agent checks the
// journal as the engine does at start, TPM counter included. A journal
// copied while the update waited for its reboot and put back after the
// commit is validly authenticated; status must not show it as the update
// state (it would say a trial boot of B is pending on a committed device),
// must say why and must exit non-zero, with or without the slots given,
// and without changing the journal or the counter.
func TestStatusReplayedJournal(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := &memCounter{}
	defer func(old func(string) commandCounter) { openCounter = old }(openCounter)
	openCounter = func(string) commandCounter { return c }
	withCounter := func(o *Options) { o.Counter = c }
	journal := filepath.Join(w.dir, "update.journal")
	var out, errb bytes.Buffer
	status := func(args ...string) (Status, error) {
		t.Helper()
		out.Reset()
		errb.Reset()
		err := command(ctx, &out, &errb, append([]string{"status", "--json"}, args...))
		var st Status
		if jerr := json.Unmarshal(out.Bytes(), &st); jerr != nil {
			t.Fatalf("status %v: not JSON (%v): %q, %v", args, jerr, out.String(), err)
		}
		return st, err
	}

	must(t, w.engine(withCounter).Install(ctx, w.src()))
	old, err := os.ReadFile(journal)
	must(t, err)
	st, err := status("--journal", journal)
	if err != nil || st.State != StateReboot || st.JournalCheck != CheckCounter {
		t.Fatalf("status of the current journal: %+v, %v", st, err)
	}
	if s := w.boot(); s.Name != "B" {
		t.Fatalf("trial boot on %s", s.Name)
	}
	must(t, w.engine(withCounter).Resume(ctx))
	st, err = status("--journal", journal)
	if err != nil || st.State != StateCommitted || st.JournalCheck != CheckCounter {
		t.Fatalf("status after the commit: %+v, %v", st, err)
	}

	must(t, os.WriteFile(journal, old, 0o600)) // the older journal put back
	counter := c.v
	st, err = status("--journal", journal)
	if !errors.Is(err, ErrJournalUntrusted) || !errors.Is(err, ErrJournalReplayed) {
		t.Errorf("status of the replayed journal: error %v, want it untrusted (replayed)", err)
	}
	if st.State != StateIdle || st.Artifact != "" || st.JournalCheck != CheckFailed || !strings.Contains(st.JournalRejected, "counter") {
		t.Errorf("status shows the replayed journal: %+v", st)
	}
	if b, _ := os.ReadFile(journal); !bytes.Equal(b, old) || c.v != counter {
		t.Errorf("status changed the journal or the counter (%d -> %d)", counter, c.v)
	}
	// The text form says it plainly.
	out.Reset()
	err = command(ctx, &out, &errb, []string{"status", "--journal", journal})
	if !errors.Is(err, ErrJournalUntrusted) || !strings.Contains(out.String(), "journal:   REJECTED") || strings.Contains(out.String(), "reboot") {
		t.Errorf("text status of the replayed journal: %v\n%s", err, out.String())
	}
	// With the slots given the engine checks it (and keeps it aside).
	st, err = status(w.cliArgs("status")[1:]...)
	if !errors.Is(err, ErrJournalUntrusted) || st.State != StateIdle || st.JournalCheck != CheckFailed {
		t.Errorf("status with slots of the replayed journal: %+v, %v", st, err)
	}

	// A forged journal (not authenticated) fails the same way.
	must(t, os.WriteFile(journal, []byte(`{"version":2,"state":"arm","to_slot":"B"}`), 0o600))
	st, err = status("--journal", journal)
	if !errors.Is(err, ErrJournalUntrusted) || st.State != StateIdle || st.JournalCheck != CheckFailed {
		t.Errorf("status of a forged journal: %+v, %v", st, err)
	}
}

// TestStatusWithoutCounter: without a TPM, status says that the journal
// is authenticated by the state key only.
func TestStatusWithoutCounter(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	must(t, w.engine(nil).Install(ctx, w.src()))
	var out, errb bytes.Buffer
	err := command(ctx, &out, &errb, []string{"status", "--tpm", "off", "--journal", filepath.Join(w.dir, "update.journal")})
	if err != nil || !strings.Contains(out.String(), "state:     reboot") || !strings.Contains(out.String(), "state key only") {
		t.Errorf("status without a TPM: %v\n%s", err, out.String())
	}
}

// TestCheckCounterReadOnly: the rule of bindCounter, without side effects.
func TestCheckCounterReadOnly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		journal uint64
		made    bool
		ok      bool
	}{
		{"same", 50, true, true},
		{"one ahead: power cut before the increment", 51, true, true},
		{"older journal", 49, true, false},
		{"two ahead", 52, true, false},
		{"no counter in the journal", 0, true, false},
		{"the TPM has no counter yet", 0, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &memCounter{v: 50, made: tc.made}
			err := checkCounterReadOnly(c, &Journal{Counter: tc.journal})
			if (err == nil) != tc.ok {
				t.Errorf("check: %v, want ok %v", err, tc.ok)
			}
			if c.v != 50 || c.made != tc.made {
				t.Errorf("the check changed the counter: %+v", c)
			}
		})
	}
}
