package command

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"medagent/telemetry"
)

// Result statuses.
const (
	StatusDone    = "done"    // the command ran
	StatusFailed  = "failed"  // verified, but running it failed
	StatusRefused = "refused" // not verified; not run
	// StatusAccepted: verified, and the work goes on (an update): results
	// with Phase follow, then a final done or failed.
	StatusAccepted = "accepted"
)

// Result is published on the cmd-result topic for every command received.
// Its fields never carry patient data.
type Result struct {
	Device string    `json:"device"`
	Nonce  string    `json:"nonce,omitempty"` // base64, from the envelope if it decoded
	Name   string    `json:"name,omitempty"`
	Status string    `json:"status"`
	Code   string    `json:"code,omitempty"`  // stable refusal code, see codes
	Phase  string    `json:"phase,omitempty"` // with accepted: where the work is (package handoff's phases)
	Error  string    `json:"error,omitempty"`
	At     time.Time `json:"at"`
}

var codes = []struct {
	err  error
	code string
}{
	{ErrMalformed, "malformed"},
	{ErrUnsigned, "unsigned"},
	{ErrUnknownKey, "unknown-key"},
	{ErrBadSignature, "bad-signature"},
	{ErrWrongDevice, "wrong-device"},
	{ErrExpired, "expired"},
	{ErrNotYetValid, "not-yet-valid"},
	{ErrLifetime, "lifetime"},
	{ErrReplay, "replay"},
	{ErrNonceStoreFull, "nonce-store-full"},
}

// Code returns the stable code of a Verify error, or "" if err is not a refusal.
func Code(err error) string {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}

// ResultFor builds the result for a command received as payload: a refusal
// if verr is not nil, else done or failed by runErr. Name and nonce come
// from the envelope when it decodes, so the back end can correlate even a
// refusal (they are not trusted then).
func ResultFor(device string, at time.Time, payload []byte, c Command, verr, runErr error) Result {
	r := Result{Device: device, At: at.UTC(), Name: c.Name, Nonce: c.Nonce}
	if verr != nil {
		if e, err := Decode(payload); err == nil {
			r.Name, r.Nonce = e.Name, e.command().Nonce
		}
		r.Status, r.Code, r.Error = StatusRefused, Code(verr), verr.Error()
		return r
	}
	if runErr != nil {
		r.Status, r.Error = StatusFailed, runErr.Error()
		return r
	}
	r.Status = StatusDone
	return r
}

// Pack wraps r for the spool: an event pack of stream
// telemetry.StreamCommandResult whose one record holds r as JSON, which
// the uplink publishes as it is on cmd-result.
func (r Result) Pack() (telemetry.Pack, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return telemetry.Pack{}, fmt.Errorf("command: encode result: %w", err)
	}
	return telemetry.Pack{Stream: telemetry.StreamCommandResult, Class: telemetry.ClassEvent, Time: r.At,
		Records: []telemetry.Record{{Name: telemetry.StreamCommandResult, String: string(b)}}}, nil
}
