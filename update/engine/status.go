package engine

import (
	"errors"
	"fmt"
	"io"
	"os"

	"medagent/trust/floor"
)

// How the journal behind a Status was checked (Status.JournalCheck).
const (
	// CheckCounter: authenticated with the state key and bound to the TPM
	// NV counter: neither forged nor an older journal put back.
	CheckCounter = "tpm-counter"
	// CheckKey: authenticated with the state key only (no TPM counter):
	// not forged, but an older journal of this device put back would not
	// be detected.
	CheckKey = "state-key"
	// CheckFailed: the journal failed its check (forged, replayed, or it
	// could not be checked); its contents are not the update state.
	CheckFailed = "failed"
)

// ErrJournalUntrusted: update status found a journal that failed its check
// (forged, an older one put back, or not checkable now). Status then shows
// what the engine does with such a journal (nothing in progress), not its
// contents; the command exits non-zero.
var ErrJournalUntrusted = errors.New("the update journal failed its check: not shown as the update state")

// counterReader reads the journal counter without changing it.
type counterReader interface {
	Read() (v uint64, exists bool, err error)
}

// commandCounter is the journal counter as the offline commands use it.
type commandCounter interface {
	JournalCounter
	counterReader
}

// openCounter returns the journal counter of the TPM named by --tpm (nil
// without one); a seam for tests.
var openCounter = func(tpm string) commandCounter {
	if c := floor.OpenCounter(tpm); c != nil {
		return c
	}
	return nil
}

// checkCounterReadOnly is bindCounter for a report: the same rule, without
// making or incrementing the counter and without the boot environment.
func checkCounterReadOnly(c counterReader, j *Journal) error {
	v, exists, err := c.Read()
	switch {
	case err != nil:
		return fmt.Errorf("engine: the journal counter cannot be read, the journal cannot be checked: %w", err)
	case !exists:
		return errors.New("engine: the TPM holds no journal counter yet (the agent makes it at its next start): the journal cannot be checked for replay")
	case j.Counter == v || j.Counter == v+1: // v+1: power cut before the increment
		return nil
	case j.Counter == 0:
		return fmt.Errorf("engine: the journal holds no counter (written by an agent without one); the agent accepts it only while its trial boot runs: give the slots (--slot-a, --slot-b) to check that: %w", ErrJournalReplayed)
	}
	return fmt.Errorf("engine: journal counter %d, the device's counter is %d: %w", j.Counter, v, ErrJournalReplayed)
}

// statusFromJournal is "update status" from the journal alone (no slots
// given): the journal is checked as the engine checks it at start (its
// authentication, then the TPM counter) but nothing is changed. A journal
// that fails is reported, not shown, and the result wraps
// ErrJournalUntrusted.
func (f *Offline) statusFromJournal(stdout io.Writer) error {
	if _, err := os.Lstat(f.journal); errors.Is(err, os.ErrNotExist) {
		st := statusOf(idleJournal())
		if c := openCounter(f.tpm); c != nil {
			st.JournalCheck = CheckCounter
		} else {
			st.JournalCheck = CheckKey
		}
		return printStatus(stdout, st, f.JSON)
	}
	key, err := f.journalKey()
	if err != nil {
		return untrusted(stdout, f.JSON, err)
	}
	j, err := readJournal(f.journal, key)
	if err != nil {
		return untrusted(stdout, f.JSON, err)
	}
	st := statusOf(j)
	st.JournalCheck = CheckKey
	if c := openCounter(f.tpm); c != nil {
		if err := checkCounterReadOnly(c, j); err != nil {
			return untrusted(stdout, f.JSON, fmt.Errorf("engine: journal %s: %w", f.journal, err))
		}
		st.JournalCheck = CheckCounter
	}
	return printStatus(stdout, st, f.JSON)
}

// untrusted prints the status of a journal that failed its check and
// returns the error that makes the command exit non-zero.
func untrusted(stdout io.Writer, asJSON bool, why error) error {
	st := statusOf(idleJournal())
	st.JournalCheck, st.JournalRejected = CheckFailed, why.Error()
	if err := printStatus(stdout, st, asJSON); err != nil {
		return err
	}
	return fmt.Errorf("update status: %w: %w", ErrJournalUntrusted, why)
}

// statusResult is what "update status" returns for st: an error wrapping
// ErrJournalUntrusted when the journal found at start failed its check.
func statusResult(st Status) error {
	if st.JournalRejected == "" {
		return nil
	}
	return fmt.Errorf("update status: %w: %s", ErrJournalUntrusted, st.JournalRejected)
}
