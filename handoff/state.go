package handoff

import (
	"encoding/json"
	"fmt"
	"time"
)

// Phase is where acquire is with an item.
type Phase string

// The phases, in the order an update goes through them.
const (
	// Queued: in the hand-off, not yet seen by acquire. State reports it;
	// acquire never writes it.
	Queued Phase = "queued"
	// Received: acquire has read the item and found its shape sound.
	Received Phase = "received"
	// Verifying: acquire is checking signatures (command, artifact).
	Verifying Phase = "verifying"
	// Fetch: a verified update command waits for its artifact; State.Fetch
	// says what the producer is asked to download.
	Fetch Phase = "fetch"
	// Installing: the artifact streams into the inactive slot.
	Installing Phase = "installing"
	// RebootPending: installed, the reboot waits for the clinical-use lock
	// (Reason says why).
	RebootPending Phase = "reboot-pending"
	// Rebooting: the trial boot was requested; after it the agent's own
	// health checks commit or roll back.
	Rebooting Phase = "rebooting"
	// Success and Failure are final; Failure has a Reason.
	Success Phase = "success"
	Failure Phase = "failure"
)

// Final reports whether p is a terminal phase.
func (p Phase) Final() bool { return p == Success || p == Failure }

func (p Phase) valid() bool {
	switch p {
	case Received, Verifying, Fetch, Installing, RebootPending, Rebooting, Success, Failure:
		return true
	}
	return false
}

// State is what acquire says about an item, in the state directory
// (STATE_DIR/<id>.json). Only acquire writes it; producers read it.
type State struct {
	Format int    `json:"format"`
	ID     string `json:"id"`
	Kind   Kind   `json:"kind"`
	Phase  Phase  `json:"phase"`
	Reason string `json:"reason,omitempty"` // why it failed, or why a reboot waits
	// Command items: the verified command's name and nonce (base64).
	Name  string `json:"name,omitempty"`
	Nonce string `json:"nonce,omitempty"`
	// Fetch is set in phase Fetch: what the signed update command asks for.
	Fetch *FetchRequest `json:"fetch,omitempty"`
	// Artifact items: the command item they serve (if any) and the
	// artifact's name once its signature verified.
	Command  string    `json:"command,omitempty"`
	Artifact string    `json:"artifact,omitempty"`
	Updated  time.Time `json:"updated"`
}

// FetchRequest is a download a verified signed command asks for.
type FetchRequest struct {
	URL    string `json:"url"`
	Digest string `json:"digest"` // sha256:<hex>
	// AllowDowngrade is the artifact_name the signed command allows below
	// the device's version floor (anti-rollback); with Digest it names
	// the exact artifact. Empty: no downgrade.
	AllowDowngrade string `json:"allow_downgrade,omitempty"`
}

const maxStateBytes = 8 << 10

// encode checks s and returns its file form.
func (s *State) encode() ([]byte, error) {
	s.Format = Format
	if err := s.check(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("handoff: encode state %s: %w", s.ID, err)
	}
	if len(b) > maxStateBytes {
		return nil, fmt.Errorf("handoff: state %s is %d bytes, limit %d", s.ID, len(b), maxStateBytes)
	}
	return b, nil
}

func (s *State) check() error {
	switch {
	case !ValidID(s.ID):
		return fmt.Errorf("handoff: state id %q is not an item id", s.ID)
	case !s.Phase.valid():
		return fmt.Errorf("handoff: state %s: unknown phase %q", s.ID, s.Phase)
	case s.Kind != KindCommand && s.Kind != KindArtifact && s.Kind != "":
		return fmt.Errorf("handoff: state %s: unknown kind %q", s.ID, s.Kind)
	case s.Phase == Fetch && s.Fetch == nil:
		return fmt.Errorf("handoff: state %s: phase fetch without a fetch request", s.ID)
	}
	return nil
}

// decodeState parses a state file strictly.
func decodeState(b []byte) (State, error) {
	var s State
	if len(b) > maxStateBytes {
		return s, fmt.Errorf("handoff: state of %d bytes, limit %d", len(b), maxStateBytes)
	}
	if err := decodeStrict(b, &s); err != nil {
		return State{}, fmt.Errorf("handoff: state: %w", err)
	}
	if s.Format != Format {
		return State{}, fmt.Errorf("handoff: state %s has format %d, want %d", s.ID, s.Format, Format)
	}
	if err := s.check(); err != nil {
		return State{}, err
	}
	return s, nil
}
