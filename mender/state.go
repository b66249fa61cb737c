package mender

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// stateFormat is the version of the deployment state file.
const stateFormat = 1

// deployState is the deployment in progress, kept across restarts (and
// the reboot into the new artifact) in StateDir/deployment.json.
type deployState struct {
	Format   int          `json:"format"`
	Deploy   instructions `json:"deployment"`
	Item     string       `json:"item,omitempty"`     // hand-off item id once submitted
	Reported string       `json:"reported,omitempty"` // the last status the server accepted
	Log      []logLine    `json:"log,omitempty"`
}

// saveState writes s durably: temp file, fsync, rename, fsync the directory.
func (c *Client) saveState(s *deployState) error {
	s.Format = stateFormat
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("mender: state: %w", err)
	}
	dir := filepath.Dir(c.statePath)
	f, err := os.CreateTemp(dir, ".deployment-*")
	if err != nil {
		return fmt.Errorf("mender: state: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("mender: state: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("mender: state: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("mender: state: %w", err)
	}
	if err := os.Rename(f.Name(), c.statePath); err != nil {
		return fmt.Errorf("mender: state: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("mender: state: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("mender: state: sync %s: %w", dir, err)
	}
	return nil
}

// loadState reads the deployment in progress; nil if there is none. A
// state file that does not decode is reported and ignored (the server
// will offer the deployment again).
func (c *Client) loadState() *deployState {
	b, err := os.ReadFile(c.statePath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var s deployState
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err == nil && s.Format != stateFormat {
		err = fmt.Errorf("format %d, want %d", s.Format, stateFormat)
	}
	if err == nil && s.Deploy.ID == "" {
		err = errors.New("no deployment id")
	}
	if err != nil {
		c.log.Warn("mender: deployment state unreadable, ignored", "file", c.statePath, "err", err)
		return nil
	}
	return &s
}

func (c *Client) clearState() {
	if err := os.Remove(c.statePath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.log.Warn("mender: remove deployment state", "err", err)
	}
}

// logLine is one deployment log message (DeploymentLogMessagesInner).
type logLine struct {
	Timestamp time.Time `json:"timestamp"`
	Level     string    `json:"level"`
	Message   string    `json:"message"`
}

// maxLogLines bounds the deployment log kept and uploaded.
const maxLogLines = 200

func (s *deployState) logf(now time.Time, level, format string, a ...any) {
	if len(s.Log) >= maxLogLines {
		s.Log = append(s.Log[:maxLogLines/2], s.Log[len(s.Log)-maxLogLines/2+1:]...)
	}
	s.Log = append(s.Log, logLine{Timestamp: now.UTC(), Level: level, Message: clean(fmt.Sprintf(format, a...), 1000)})
}
