package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"medagent/internal/authfile"
	"medagent/internal/durable"
)

// JournalVersion is the journal format this engine reads and writes.
// Version 2 is authenticated (internal/authfile); version 1 journals were
// not, and are treated like any journal that fails its check.
const JournalVersion = 2

const journalFormat = "medagent-update-journal"

// maxJournalSize bounds what we read from the journal file.
const maxJournalSize = 1 << 20

// maxHistory bounds the transition history kept in the journal.
const maxHistory = 64

// ErrJournalVersion: the journal was written by an incompatible engine.
var ErrJournalVersion = errors.New("unsupported journal format version")

// Journal is the persistent state of the engine.
type Journal struct {
	Version int   `json:"version"`
	State   State `json:"state"`
	// Update in progress (or the last one).
	Artifact string            `json:"artifact,omitempty"`
	URL      string            `json:"url,omitempty"`      // source of InstallURL
	Provides map[string]string `json:"provides,omitempty"` // of the artifact being installed
	Clears   []string          `json:"clears,omitempty"`   // installed provides it replaces (nil: all)
	FromSlot string            `json:"from_slot,omitempty"`
	FromPart string            `json:"from_part,omitempty"`
	ToSlot   string            `json:"to_slot,omitempty"`
	ToPart   string            `json:"to_part,omitempty"`
	Size     int64             `json:"size,omitempty"`
	// Digest is the payload's SHA-256 from the signed manifest, recorded
	// before the first byte is written; the slot is hashed against it
	// before the trial boot is armed.
	Digest  string `json:"digest,omitempty"`
	Chunked bool   `json:"chunked,omitempty"` // the payload had a signed chunk list
	// Counter is the TPM NV counter's value this journal was written with
	// (Options.Counter; 0 without one): an older journal put back is
	// refused.
	Counter uint64 `json:"counter,omitempty"`
	// ArtifactVersion is the artifact's version (trust/floor), checked
	// against the floor again before arming; the floor is raised to it
	// after the commit. Downgrade is a signed command's permission to go
	// below the floor with exactly this artifact.
	ArtifactVersion string        `json:"artifact_version,omitempty"`
	Downgrade       *Downgrade    `json:"downgrade,omitempty"`
	Entries         map[State]int `json:"entries,omitempty"`
	// RebootRequests counts the reboot requests made in the current
	// reboot state (StateReboot, StateRollbackBoot), the last at
	// RebootRequestedAt; each is journaled before it is made.
	// RebootProblem says why the reboot is overdue (AwaitReboot);
	// RebootError is the last request's error, if it failed.
	RebootRequests    int          `json:"reboot_requests,omitempty"`
	RebootRequestedAt time.Time    `json:"reboot_requested_at,omitzero"`
	RebootProblem     string       `json:"reboot_problem,omitempty"`
	RebootError       string       `json:"reboot_error,omitempty"`
	Reason            string       `json:"reason,omitempty"` // why the update failed or rolled back
	StartedAt         time.Time    `json:"started_at,omitzero"`
	UpdatedAt         time.Time    `json:"updated_at,omitzero"`
	History           []Transition `json:"history,omitempty"`
	// Installed holds the provides of the committed software (kept across updates).
	Installed map[string]string `json:"installed,omitempty"`
}

// Transition is one journaled state change.
type Transition struct {
	State State     `json:"state"`
	At    time.Time `json:"at"`
	Note  string    `json:"note,omitempty"`
}

func idleJournal() *Journal { return &Journal{Version: JournalVersion, State: StateIdle} }

// loadJournal reads and authenticates the journal at path. A missing file
// is an idle journal. A journal that fails its check (not authentic, other
// format version, not owned by this user only, unreadable) is never acted
// on: it comes back idle with the reason in rejected, and the file is
// renamed to path.rejected for diagnosis.
func loadJournal(path string, key []byte) (j *Journal, rejected error) {
	j, err := readJournal(path, key)
	if err == nil {
		return j, nil
	}
	return idleJournal(), rejectJournal(path, err)
}

// rejectJournal keeps a journal that failed its check aside (as
// path.rejected) and returns err, with the failure to do so.
func rejectJournal(path string, err error) error {
	if qerr := authfile.Quarantine(path); qerr != nil {
		err = fmt.Errorf("%w (and keeping it aside failed: %v)", err, qerr)
	}
	return err
}

// readJournal is loadJournal without side effects: an error for a journal
// that fails its check.
func readJournal(path string, key []byte) (*Journal, error) {
	b, err := authfile.Read(path, maxJournalSize)
	if errors.Is(err, os.ErrNotExist) {
		return idleJournal(), nil
	}
	if err == nil {
		var j *Journal
		if j, err = parseJournal(b, path, key); err == nil {
			return j, nil
		}
	}
	return nil, fmt.Errorf("engine: journal %s failed its check, treated as nothing in progress: %w", path, err)
}

func parseJournal(b []byte, path string, key []byte) (*Journal, error) {
	var j Journal
	if err := authfile.Unmarshal(key, journalFormat, JournalVersion, b, &j); err != nil {
		var probe struct {
			Version *int `json:"version"`
		}
		if json.Unmarshal(b, &probe) == nil && probe.Version != nil && *probe.Version != JournalVersion {
			return nil, fmt.Errorf("%w %d (this agent writes %d): %w", ErrJournalVersion, *probe.Version, JournalVersion, err)
		}
		return nil, err
	}
	if j.Version != JournalVersion || j.State == "" {
		return nil, fmt.Errorf("engine: journal %s: version %d, state %q: %w", path, j.Version, j.State, ErrJournalVersion)
	}
	return &j, nil
}

// saveJournal writes j authenticated and durably: temp file, fsync,
// rename, fsync directory; mode 0600.
func saveJournal(path string, key []byte, j *Journal) error {
	b, err := authfile.Marshal(key, journalFormat, JournalVersion, j)
	if err != nil {
		return fmt.Errorf("engine: journal: %w", err)
	}
	if err := authfile.Write(path, b); err != nil {
		return fmt.Errorf("engine: journal: %w", err)
	}
	return nil
}

// writeFileAtomic replaces path with b durably (internal/durable).
func writeFileAtomic(path string, b []byte) error {
	return durable.WriteFile(path, b, 0o600)
}
