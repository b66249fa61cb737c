package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"medagent/update/slot"
)

// Engine runs A/B updates. Its methods may be called from several
// goroutines; only one operation (Install, Resume, Commit, Rollback) runs at
// a time, the others get ErrBusy. Status and ForceReboot never block.
type Engine struct {
	o   Options
	log *slog.Logger

	op sync.Mutex // held by the running operation

	mu      sync.Mutex // guards j (for Status) and the fields below
	j       *Journal
	pending string // why a reboot is held back ("" when not pending)
	written int64
	// rejected says why the journal found at start was not trusted.
	rejected string
	// counter is the journal counter's value (Options.Counter), known
	// when counterOK.
	counter   uint64
	counterOK bool
	// fresh is the digest this process verified the target slot against
	// just now (preArm); armAndReboot re-hashes the slot unless it matches.
	fresh string

	force   atomic.Bool
	forceCh chan struct{} // buffered 1: wakes the reboot wait
	// requested (buffered 1) wakes Run's watchdog after a reboot request.
	requested chan struct{}

	// crash is a test seam: called at every journaled transition and during
	// the payload write; a test makes it panic to simulate a power cut.
	crash func(point string)
}

// Status is a JSON-able snapshot of the engine.
type Status struct {
	State         State  `json:"state"`
	JournalState  State  `json:"journal_state"`
	Artifact      string `json:"artifact,omitempty"`
	FromSlot      string `json:"from_slot,omitempty"`
	ToSlot        string `json:"to_slot,omitempty"`
	Written       int64  `json:"written,omitempty"`
	Size          int64  `json:"size,omitempty"`
	RebootPending bool   `json:"reboot_pending"`
	PendingReason string `json:"pending_reason,omitempty"`
	// RebootRequests and RebootRequestedAt: the reboot requests made in
	// the current reboot state; RebootProblem says why that reboot is
	// overdue (it did not happen within the reboot timeout, or the
	// request failed).
	RebootRequests    int               `json:"reboot_requests,omitempty"`
	RebootRequestedAt time.Time         `json:"reboot_requested_at,omitzero"`
	RebootProblem     string            `json:"reboot_problem,omitempty"`
	Reason            string            `json:"reason,omitempty"`
	Entries           map[State]int     `json:"entries,omitempty"`
	Installed         map[string]string `json:"installed,omitempty"`
	UpdatedAt         time.Time         `json:"updated_at,omitzero"`
	// JournalRejected says why the journal found at start failed its check
	// (it was treated as nothing in progress and kept as *.rejected).
	JournalRejected string `json:"journal_rejected,omitempty"`
	// JournalCheck says how the journal is protected: CheckCounter,
	// CheckKey, or CheckFailed (then JournalRejected says why).
	JournalCheck string `json:"journal_check,omitempty"`
}

// New loads the journal and returns an engine. A journal that fails its
// check (not authenticated by JournalKey, another format version, writable
// by others) is treated as nothing in progress: it is kept aside as
// Journal+".rejected", logged, and reported by Status; it never arms or
// continues anything.
func New(o Options) (*Engine, error) {
	if err := o.ensureDefaults(); err != nil {
		return nil, err
	}
	j, rejected := loadJournal(o.Journal, o.JournalKey)
	e := &Engine{o: o, log: o.Logger, j: j, forceCh: make(chan struct{}, 1), requested: make(chan struct{}, 1), crash: func(string) {}}
	if _, err := os.Lstat(o.Journal); o.Counter != nil && rejected == nil && !errors.Is(err, os.ErrNotExist) {
		counter, err := bindCounter(o.Counter, j, e.inTrialOf)
		switch {
		case errors.Is(err, ErrJournalReplayed):
			rejected = rejectJournal(o.Journal, err)
			e.j = idleJournal()
		case err != nil:
			// The TPM does not answer: nothing is acted on now, the
			// journal is kept for when it does.
			rejected = err
			e.j = idleJournal()
		default:
			e.counter, e.counterOK = counter, true
		}
	}
	if rejected != nil {
		e.rejected = rejected.Error()
		e.log.Error("update journal rejected", "err", rejected)
		e.audit("update.journal_rejected", map[string]string{"reason": e.rejected})
	}
	return e, nil
}

// Status returns a snapshot.
func (e *Engine) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Status{
		State: e.j.State, JournalState: e.j.State, Artifact: e.j.Artifact,
		FromSlot: e.j.FromSlot, ToSlot: e.j.ToSlot, Size: e.j.Size, Written: e.written,
		Reason: e.j.Reason, Entries: maps.Clone(e.j.Entries), Installed: maps.Clone(e.j.Installed),
		UpdatedAt: e.j.UpdatedAt, JournalRejected: e.rejected, JournalCheck: CheckKey,
	}
	switch {
	case e.rejected != "":
		s.JournalCheck = CheckFailed
	case e.o.Counter != nil:
		s.JournalCheck = CheckCounter
	}
	if e.j.State == StateReboot || e.j.State == StateRollbackBoot {
		s.RebootRequests, s.RebootRequestedAt, s.RebootProblem = e.j.RebootRequests, e.j.RebootRequestedAt, e.j.RebootProblem
	}
	if e.pending != "" {
		s.State, s.RebootPending, s.PendingReason = StateRebootPending, true, e.pending
	}
	return s
}

// ForceReboot lets a waiting (or the next) reboot go ahead even while a
// patient is monitored or outside the maintenance window: a technician's
// decision.
func (e *Engine) ForceReboot() {
	e.force.Store(true)
	select {
	case e.forceCh <- struct{}{}:
	default:
	}
}

// Journal returns a copy of the journal (for diagnostics).
func (e *Engine) Journal() Journal {
	e.mu.Lock()
	defer e.mu.Unlock()
	j := *e.j
	j.Entries = maps.Clone(e.j.Entries)
	j.History = append([]Transition(nil), e.j.History...)
	return j
}

func (e *Engine) tryOp() (func(), error) {
	if !e.op.TryLock() {
		return nil, ErrBusy
	}
	return e.op.Unlock, nil
}

// loopError: a state was entered too often.
type loopError struct {
	state State
	n     int
}

func (l *loopError) Error() string {
	return fmt.Sprintf("loop breaker: state %s entered %d times", l.state, l.n)
}

// enter journals a transition into s. It returns a *loopError (and does not
// enter) when s was entered MaxStateEntries times already.
func (e *Engine) enter(s State, note string) error {
	e.crash("before:" + string(s))
	e.mu.Lock()
	if e.j.Entries == nil {
		e.j.Entries = map[State]int{}
	}
	if !s.Terminal() && e.j.Entries[s] >= e.o.MaxStateEntries {
		n := e.j.Entries[s] + 1
		e.mu.Unlock()
		return &loopError{state: s, n: n}
	}
	prev := *e.j
	prevEntries := maps.Clone(e.j.Entries)
	e.j.Entries[s]++
	e.j.State = s
	now := e.o.Now().UTC()
	e.j.UpdatedAt = now
	e.j.History = append(e.j.History, Transition{State: s, At: now, Note: note})
	if len(e.j.History) > maxHistory {
		e.j.History = e.j.History[len(e.j.History)-maxHistory:]
	}
	err := e.persist()
	if err != nil {
		*e.j = prev
		e.j.Entries = prevEntries
	} else if s == StateDownload {
		// A new install's journal now stands where the one rejected at
		// start was (kept as *.rejected, in the log and the audit trail):
		// the rejection no longer describes the update state.
		e.rejected = ""
	}
	e.mu.Unlock()
	if err != nil {
		return err
	}
	e.log.Info("update state", "state", string(s), "artifact", prev.Artifact, "slot", e.j.ToSlot, "note", note)
	e.crash("after:" + string(s))
	return nil
}

// update changes journal fields in memory (saved with the next enter or
// with save).
func (e *Engine) update(f func(j *Journal)) {
	e.mu.Lock()
	f(e.j)
	e.mu.Unlock()
}

func (e *Engine) save() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.persist()
}

func (e *Engine) setReason(reason string) {
	e.update(func(j *Journal) {
		if j.Reason == "" {
			j.Reason = reason
		}
	})
}

func (e *Engine) journal() Journal {
	e.mu.Lock()
	defer e.mu.Unlock()
	return *e.j
}

func (e *Engine) slots() (from, to slot.Slot, err error) {
	j := e.journal()
	from, ok1 := e.o.Slots.ByPart(j.FromPart)
	to, ok2 := e.o.Slots.ByPart(j.ToPart)
	if !ok1 || !ok2 {
		return from, to, fmt.Errorf("engine: journal slots %q/%q match no configured slot", j.FromPart, j.ToPart)
	}
	return from, to, nil
}

// bootVars are the variables that make U-Boot boot s.
func bootVars(s slot.Slot) map[string]string {
	v := map[string]string{"mender_boot_part": s.Part}
	if n, err := strconv.ParseUint(s.Part, 10, 16); err == nil {
		v["mender_boot_part_hex"] = strconv.FormatUint(n, 16)
	}
	return v
}

// bootState reads what the engine needs to decide after a restart.
type bootState struct {
	running   slot.Slot
	part      string // mender_boot_part
	upgrading bool   // upgrade_available=1
}

// readBootState refuses (with slot.ErrUnknownSlot) when the running slot
// has no positive identity: the boot environment names the slot to boot
// next, which after arming is not the running one.
func (e *Engine) readBootState() (bootState, error) {
	running, _, err := e.o.Slots.Active()
	if err != nil {
		return bootState{}, fmt.Errorf("engine: %w", err)
	}
	v, err := e.o.Env.ReadEnv("mender_boot_part", "upgrade_available")
	if err != nil {
		return bootState{}, fmt.Errorf("engine: read boot environment: %w", err)
	}
	return bootState{running: running, part: v["mender_boot_part"], upgrading: v["upgrade_available"] == "1"}, nil
}

// resultErr is what an operation returns when the update ended badly.
func (e *Engine) resultErr() error {
	j := e.journal()
	switch j.State {
	case StateFailed:
		return fmt.Errorf("engine: %w: %s", ErrFailed, j.Reason)
	case StateRolledBack:
		return fmt.Errorf("engine: %w: %s", ErrRolledBack, j.Reason)
	}
	return nil
}

func isLoop(err error) bool {
	var l *loopError
	return errors.As(err, &l)
}

// wait sleeps d or until ctx ends or a force arrives.
func (e *Engine) wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	case <-e.forceCh:
	}
	return nil
}

// writeEnv writes vars to the boot environment, then once more. With
// redundant copies the second write puts the same state into the other
// copy, so that damage to either copy later still reads as this state and
// not as the one before (after a commit that would be the trial, which the
// boot loader counts past its limit and rolls back). The first write is
// the one that counts; a failed second write only leaves the previous
// state in the other copy, as after any single write, and is logged.
func (e *Engine) writeEnv(vars map[string]string) error {
	if err := e.o.Env.WriteEnv(vars); err != nil {
		return err
	}
	e.crash("env-second-copy")
	if err := e.o.Env.WriteEnv(vars); err != nil {
		e.log.Warn("boot environment: second copy not updated", "err", err)
	}
	return nil
}
