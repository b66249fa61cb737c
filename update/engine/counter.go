package engine

import (
	"errors"
	"fmt"

	"medagent/internal/authfile"
	"medagent/trust/floor"
)

// JournalCounter is a monotonic counter the journal is bound to
// (trust/floor.Counter: a TPM NV counter).
type JournalCounter interface {
	// Value returns the counter; fresh says it was just made (nothing
	// was bound to it before).
	Value() (v uint64, fresh bool, err error)
	// Increment adds one and returns the new value.
	Increment() (uint64, error)
}

// OpenJournalCounter returns the TPM NV counter of the TPM named by tpm
// (trust.tpm: "" finds /dev/tpmrm0, "off" never); nil without a TPM.
func OpenJournalCounter(tpm string) JournalCounter {
	if c := floor.OpenCounter(tpm); c != nil {
		return c
	}
	return nil
}

// ErrJournalReplayed: the journal's counter is behind the device's (an
// older journal put back) or ahead of it.
var ErrJournalReplayed = errors.New("journal is not the latest one written (replayed or out of step with the TPM counter)")

// bindCounter checks the loaded journal against the counter (when there is
// one) and returns the counter's value. Each save writes counter+1 into
// the journal first, then increments the counter: the latest journal holds
// the counter's value, or one more when a power cut came between the two
// (the increment is then done now). Anything else is an older journal put
// back, refused like a forged one (nothing in progress). A counter just
// made binds whatever journal there is (first start with a TPM counter).
// A journal without a counter comes from an agent without one (a signed
// downgrade went below this version, and that agent installed this one):
// it is accepted only while the trial boot it armed is running (inTrial),
// so that such an update can still commit.
func bindCounter(c JournalCounter, j *Journal, inTrial func(*Journal) bool) (uint64, error) {
	v, fresh, err := c.Value()
	switch {
	case err != nil:
		return 0, fmt.Errorf("engine: journal counter cannot be read, journal not trusted: %w", err)
	case fresh || j.Counter == v:
		return v, nil
	case j.Counter == 0 && inTrial != nil && inTrial(j):
		return v, nil
	case j.Counter == v+1:
		n, err := c.Increment()
		if err != nil {
			return 0, fmt.Errorf("engine: journal counter: %w", err)
		}
		return n, nil
	}
	return v, fmt.Errorf("engine: journal counter %d, the device's counter is %d: %w: %w", j.Counter, v, ErrJournalReplayed, authfile.ErrAuth)
}

// persist saves the journal (e.mu held), bound to the counter when there
// is one.
func (e *Engine) persist() error {
	if e.o.Counter == nil {
		return saveJournal(e.o.Journal, e.o.JournalKey, e.j)
	}
	if !e.counterOK {
		v, _, err := e.o.Counter.Value()
		if err != nil {
			return fmt.Errorf("engine: journal counter: %w", err)
		}
		e.counter, e.counterOK = v, true
	}
	e.j.Counter = e.counter + 1
	if err := saveJournal(e.o.Journal, e.o.JournalKey, e.j); err != nil {
		return err
	}
	n, err := e.o.Counter.Increment()
	if err != nil {
		e.counterOK = false // read it again before the next save
		return fmt.Errorf("engine: journal counter: %w", err)
	}
	e.counter = n
	if n != e.j.Counter {
		return fmt.Errorf("engine: journal counter went to %d, the journal holds %d (another writer?): %w", n, e.j.Counter, ErrJournalReplayed)
	}
	return nil
}

// inTrialOf says whether the boot environment shows j's trial boot under
// way: the device runs j's target slot, booted as a trial.
func (e *Engine) inTrialOf(j *Journal) bool {
	bs, err := e.readBootState()
	return err == nil && j.ToSlot != "" && bs.upgrading && bs.running.Name == j.ToSlot && bs.part == j.ToPart &&
		(j.State == StateReboot || j.State == StateVerifyBoot || j.State == StateHealth || j.State == StateCommit)
}
