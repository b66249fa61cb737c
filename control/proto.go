package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Request is one command to the agent, sent as one JSON line.
type Request struct {
	V   int    `json:"v"`
	Cmd string `json:"cmd"`
	// Name is the sensor of "sensor".
	Name string `json:"name,omitempty"`
	// ID is the alarm of "ack".
	ID uint64 `json:"id,omitempty"`
	// SinceMS limits "logs" to records newer than this many milliseconds
	// (0: the whole ring).
	SinceMS int64 `json:"since_ms,omitempty"`
	// Follow makes "logs" stream new records after the backlog.
	Follow bool `json:"follow,omitempty"`
	// IntervalMS is the period of "watch" (default 1000, at least 100).
	IntervalMS int64 `json:"interval_ms,omitempty"`
	// Op is the operation of "update": one of UpdateOps.
	Op string `json:"op,omitempty"`
	// Arg is what "update install" installs: an absolute path the agent
	// reads, or an https URL.
	Arg string `json:"arg,omitempty"`
}

// Response is one JSON line from the agent. Data's shape depends on the
// command (see types.go).
type Response struct {
	V     int             `json:"v"`
	OK    bool            `json:"ok"`
	Code  string          `json:"code,omitempty"` // on failure: see the Code constants
	Error string          `json:"error,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// Failure codes of a Response.
const (
	CodeRefused     = "refused"     // peer credentials not allowed
	CodeBadRequest  = "bad_request" // malformed or unknown command
	CodeUnavailable = "unavailable" // this agent (role) cannot answer it
	CodeFailed      = "failed"      // the command ran and failed
	CodeBusy        = "busy"        // too many connections
)

// Commands.
const (
	CmdStatus   = "status"
	CmdSensors  = "sensors"
	CmdSensor   = "sensor"
	CmdWatch    = "watch"
	CmdAlarms   = "alarms"
	CmdAck      = "ack"
	CmdSpool    = "spool"
	CmdCerts    = "certs"
	CmdLogs     = "logs"
	CmdDiag     = "diag"
	CmdSelftest = "selftest"
	CmdUpdate   = "update"
	CmdAudit    = "audit"
)

// UpdateOps are the operations of CmdUpdate.
// "reboot" lets a reboot that waits for the clinical-use lock go ahead.
var UpdateOps = []string{"status", "install", "commit", "rollback", "reboot"}

// MaxRequest bounds a request line.
const MaxRequest = 4096

// MaxResponse bounds a response line the client accepts.
const MaxResponse = 4 << 20

// ErrBadRequest is wrapped by DecodeRequest's errors.
var ErrBadRequest = errors.New("bad request")

var known = map[string]bool{
	CmdStatus: true, CmdSensors: true, CmdSensor: true, CmdWatch: true, CmdAlarms: true, CmdAck: true,
	CmdSpool: true, CmdCerts: true, CmdLogs: true, CmdDiag: true, CmdSelftest: true, CmdUpdate: true,
	CmdAudit: true,
}

// DecodeRequest parses and checks one request line (outside bytes: the
// peer may be anyone the socket lets in). Unknown fields are refused.
func DecodeRequest(line []byte) (Request, error) {
	var r Request
	if len(line) > MaxRequest {
		return r, fmt.Errorf("control: request of %d bytes (max %d): %w", len(line), MaxRequest, ErrBadRequest)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Request{}, fmt.Errorf("control: %v: %w", err, ErrBadRequest)
	}
	if dec.More() {
		return Request{}, fmt.Errorf("control: trailing data after the request: %w", ErrBadRequest)
	}
	switch {
	case r.V != Version:
		return Request{}, fmt.Errorf("control: protocol version %d, this agent speaks %d: %w", r.V, Version, ErrBadRequest)
	case !known[r.Cmd]:
		return Request{}, fmt.Errorf("control: unknown command %q: %w", r.Cmd, ErrBadRequest)
	case r.Cmd == CmdSensor && r.Name == "":
		return Request{}, fmt.Errorf("control: sensor needs a name: %w", ErrBadRequest)
	case r.Cmd == CmdAck && r.ID == 0:
		return Request{}, fmt.Errorf("control: ack needs an alarm id: %w", ErrBadRequest)
	case r.Cmd == CmdUpdate && !slices.Contains(UpdateOps, r.Op):
		return Request{}, fmt.Errorf("control: update op %q (want one of %v): %w", r.Op, UpdateOps, ErrBadRequest)
	case r.Cmd == CmdUpdate && r.Op == "install" && !filepath.IsAbs(r.Arg) && !strings.HasPrefix(r.Arg, "https://"):
		return Request{}, fmt.Errorf("control: update install needs an absolute path or an https URL, got %q: %w", r.Arg, ErrBadRequest)
	case r.Cmd == CmdUpdate && r.Op != "install" && r.Arg != "":
		return Request{}, fmt.Errorf("control: update %s takes no argument: %w", r.Op, ErrBadRequest)
	case r.SinceMS < 0 || r.IntervalMS < 0:
		return Request{}, fmt.Errorf("control: negative duration: %w", ErrBadRequest)
	}
	return r, nil
}
