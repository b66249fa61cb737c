package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// JournalVersion is the journal format this engine reads and writes.
const JournalVersion = 1

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
	Artifact  string            `json:"artifact,omitempty"`
	URL       string            `json:"url,omitempty"`      // source of InstallURL
	Provides  map[string]string `json:"provides,omitempty"` // of the artifact being installed
	Clears    []string          `json:"clears,omitempty"`   // installed provides it replaces (nil: all)
	FromSlot  string            `json:"from_slot,omitempty"`
	FromPart  string            `json:"from_part,omitempty"`
	ToSlot    string            `json:"to_slot,omitempty"`
	ToPart    string            `json:"to_part,omitempty"`
	Size      int64             `json:"size,omitempty"`
	Digest    string            `json:"digest,omitempty"`
	Entries   map[State]int     `json:"entries,omitempty"`
	Reason    string            `json:"reason,omitempty"` // why the update failed or rolled back
	StartedAt time.Time         `json:"started_at,omitzero"`
	UpdatedAt time.Time         `json:"updated_at,omitzero"`
	History   []Transition      `json:"history,omitempty"`
	// Installed holds the provides of the committed software (kept across updates).
	Installed map[string]string `json:"installed,omitempty"`
}

// Transition is one journaled state change.
type Transition struct {
	State State     `json:"state"`
	At    time.Time `json:"at"`
	Note  string    `json:"note,omitempty"`
}

// loadJournal reads the journal at path; a missing file is an idle journal.
func loadJournal(path string) (*Journal, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Journal{Version: JournalVersion, State: StateIdle}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("engine: journal: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxJournalSize+1))
	if err != nil {
		return nil, fmt.Errorf("engine: journal: %w", err)
	}
	return parseJournal(b, path)
}

func parseJournal(b []byte, path string) (*Journal, error) {
	if len(b) > maxJournalSize {
		return nil, fmt.Errorf("engine: journal %s larger than %d bytes", path, maxJournalSize)
	}
	var probe struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("engine: journal %s: %w", path, err)
	}
	if probe.Version == nil || *probe.Version != JournalVersion {
		v := "none"
		if probe.Version != nil {
			v = fmt.Sprint(*probe.Version)
		}
		return nil, fmt.Errorf("engine: journal %s has format version %s, this agent reads %d (move it away to start fresh): %w", path, v, JournalVersion, ErrJournalVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j Journal
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("engine: journal %s: %w", path, err)
	}
	if j.State == "" {
		return nil, fmt.Errorf("engine: journal %s: no state", path)
	}
	return &j, nil
}

// saveJournal writes j durably: temp file, fsync, rename, fsync directory.
func saveJournal(path string, j *Journal) error {
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return fmt.Errorf("engine: journal: %w", err)
	}
	if err := writeFileAtomic(path, append(b, '\n')); err != nil {
		return fmt.Errorf("engine: journal: %w", err)
	}
	return nil
}

// writeFileAtomic replaces path with b: temp file, fsync, rename, fsync of
// the directory. A crash leaves the old or the new content.
func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("fsync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}
