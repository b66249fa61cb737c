package handoff

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode"

	"medagent/internal/jsonkeys"
)

// Format is the version of item.json and of the state files.
const Format = 1

// Kind says what an item carries.
type Kind string

// The kinds of items.
const (
	// KindCommand is a signed command envelope (package trust/command),
	// the bytes exactly as received; acquire verifies its signature.
	KindCommand Kind = "command"
	// KindArtifact is an update artifact file; acquire verifies its
	// signature and, when a signed command asked for it, its digest.
	// An artifact item with Error set and no file says that the producer
	// could not get the artifact.
	KindArtifact Kind = "artifact"
)

// File names inside an item directory.
const (
	metaName     = "item.json"
	commandName  = "command.json"
	artifactName = "artifact.mender"
)

// payloadName is the file that carries an item's bytes.
func (k Kind) payloadName() string {
	if k == KindCommand {
		return commandName
	}
	return artifactName
}

// Limits. An item beyond them is refused by Submit and, should one arrive
// anyway, by the consumer.
const (
	MaxMetaBytes    = 4 << 10  // item.json
	MaxCommandBytes = 64 << 10 // a command envelope (trust/command.MaxEnvelope)
	// DefaultMaxArtifactBytes bounds an artifact unless Options say otherwise.
	DefaultMaxArtifactBytes = 1 << 30
	maxURL                  = 2048
	maxText                 = 512
)

// ErrBadItem is wrapped by every refusal of an item's shape.
var ErrBadItem = errors.New("handoff: bad item")

// idRe is what an item id may be: safe as a file name and a log value.
var idRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidID reports whether id can name an item.
func ValidID(id string) bool { return idRe.MatchString(id) }

// digestRe is the one digest form: "sha256:" and 64 lowercase hex digits.
var digestRe = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// ValidDigest reports whether d is "sha256:<64 lowercase hex>".
func ValidDigest(d string) bool { return digestRe.MatchString(d) }

// Meta is an item's item.json, written by the producer. Acquire trusts
// none of it: it names what the producer claims, and every claim that
// matters is checked against the payload or acquire's own state.
type Meta struct {
	Format    int       `json:"format"`
	ID        string    `json:"id"` // the item directory's name
	Kind      Kind      `json:"kind"`
	Size      int64     `json:"size"` // bytes of the payload file (0 with Error)
	CreatedAt time.Time `json:"created_at"`
	// Artifact items only.
	Source     string `json:"source,omitempty"`     // URL it was downloaded from
	Digest     string `json:"digest,omitempty"`     // "sha256:<hex>" of the file, as the requester named it
	Command    string `json:"command,omitempty"`    // id of the command item (a signed update) that asked for it
	Deployment string `json:"deployment,omitempty"` // or the fleet deployment that asked for it
	Error      string `json:"error,omitempty"`      // the producer could not get the artifact
}

// DecodeMeta parses item.json strictly: at most MaxMetaBytes, no unknown
// fields, no trailing data, known format and kind, and the rules of Check.
func DecodeMeta(b []byte) (Meta, error) {
	var m Meta
	if len(b) > MaxMetaBytes {
		return m, fmt.Errorf("%w: %s is %d bytes, limit %d", ErrBadItem, metaName, len(b), MaxMetaBytes)
	}
	if err := decodeStrict(b, &m); err != nil {
		return Meta{}, fmt.Errorf("%w: %s: %v", ErrBadItem, metaName, err)
	}
	if err := m.Check(DefaultMaxArtifactBytes); err != nil {
		return Meta{}, err
	}
	return m, nil
}

// Check tests the rules every item keeps; maxArtifact bounds Size.
func (m *Meta) Check(maxArtifact int64) error {
	bad := func(f string, a ...any) error {
		return fmt.Errorf("%w: "+f, append([]any{ErrBadItem}, a...)...)
	}
	switch {
	case m.Format != Format:
		return bad("format %d, want %d", m.Format, Format)
	case !ValidID(m.ID):
		return bad("id %q: want 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit", m.ID)
	case m.CreatedAt.IsZero():
		return bad("no created_at")
	case m.Size < 0:
		return bad("negative size %d", m.Size)
	}
	switch m.Kind {
	case KindCommand:
		if m.Source != "" || m.Digest != "" || m.Command != "" || m.Deployment != "" || m.Error != "" {
			return bad("a command item carries only its envelope (no source, digest, command, deployment or error)")
		}
		if m.Size == 0 || m.Size > MaxCommandBytes {
			return bad("command of %d bytes, want 1 to %d", m.Size, MaxCommandBytes)
		}
	case KindArtifact:
		if (m.Command == "") == (m.Deployment == "") {
			return bad("an artifact item names exactly one of command and deployment")
		}
		if m.Command != "" && !ValidID(m.Command) {
			return bad("command %q is not an item id", m.Command)
		}
		if !printable(m.Deployment, 128) {
			return bad("deployment: at most 128 printable characters")
		}
		if !printable(m.Source, maxURL) {
			return bad("source: at most %d printable characters", maxURL)
		}
		if m.Digest != "" && !ValidDigest(m.Digest) {
			return bad("digest %q: want sha256:<64 lowercase hex digits>", m.Digest)
		}
		if !printable(m.Error, maxText) {
			return bad("error: at most %d printable characters", maxText)
		}
		if m.Error == "" && (m.Size == 0 || m.Size > maxArtifact) {
			return bad("artifact of %d bytes, want 1 to %d", m.Size, maxArtifact)
		}
		if m.Error != "" && m.Size != 0 {
			return bad("an artifact item with an error carries no file")
		}
	default:
		return bad("unknown kind %q (want command or artifact)", m.Kind)
	}
	return nil
}

// hasPayload reports whether the item carries a payload file.
func (m *Meta) hasPayload() bool { return m.Kind == KindCommand || m.Error == "" }

func printable(s string, max int) bool {
	if len(s) > max {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
}

// decodeStrict decodes one JSON value into v: no unknown fields, nothing
// after it, no key twice (internal/jsonkeys).
func decodeStrict(b []byte, v any) error {
	if err := jsonkeys.Check(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}
