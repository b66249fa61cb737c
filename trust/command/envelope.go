package command

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"medagent/internal/jsonkeys"
)

// Version is the envelope format this package reads and writes.
const Version = 1

// MaxEnvelope is the largest payload Decode reads.
const MaxEnvelope = 64 << 10

// Command names.
const (
	Update      = "update"      // args: url (https) and digest ("sha256:<hex>" of the artifact), both required
	Reboot      = "reboot"      // no args
	Config      = "config"      // args: see package trust/keyring and the agent's config
	Diagnostics = "diagnostics" // args: free-form
)

// Signature algorithms.
const (
	ES256   = "ES256"   // ECDSA P-256, SHA-256, ASN.1 DER signature
	Ed25519 = "Ed25519" // pure Ed25519
)

const (
	minNonce = 16
	maxNonce = 64
	maxArgs  = 32
)

// Envelope is a command as sent on the wire.
type Envelope struct {
	V         int               `json:"v"`
	Device    string            `json:"device"`
	Name      string            `json:"name"`
	Args      map[string]string `json:"args,omitempty"`
	IssuedAt  int64             `json:"issued_at"`
	ExpiresAt int64             `json:"expires_at"`
	Nonce     []byte            `json:"nonce"` // base64 in JSON
	KeyID     string            `json:"key_id"`
	Alg       string            `json:"alg"`
	Sig       []byte            `json:"sig"` // base64 in JSON
}

// Command is a verified command, what the agent acts on.
type Command struct {
	Device    string
	Name      string
	Args      map[string]string
	IssuedAt  time.Time
	ExpiresAt time.Time
	Nonce     string // base64, to correlate the result
	KeyID     string
}

// envelopeFields are Envelope's JSON field names.
var envelopeFields = []string{"v", "device", "name", "args", "issued_at", "expires_at", "nonce", "key_id", "alg", "sig"}

// Decode parses an envelope strictly: size limit, no unknown fields, no
// trailing data, known version, name and algorithm, sane field sizes. It
// does not check the signature (Verifier.Verify does).
func Decode(payload []byte) (*Envelope, error) {
	if len(payload) > MaxEnvelope {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformed, len(payload), MaxEnvelope)
	}
	// Keys first: a signer's parser and this one must read the same
	// fields (no duplicates, no "DEVICE" for "device").
	if err := jsonkeys.Check(payload, envelopeFields...); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	var e Envelope
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the envelope", ErrMalformed)
	}
	if err := e.check(); err != nil {
		return nil, err
	}
	return &e, nil
}

func (e *Envelope) check() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: "+f, append([]any{ErrMalformed}, a...)...) }
	switch {
	case e.V != Version:
		return bad("version %d, want %d", e.V, Version)
	case e.Device == "" || len(e.Device) > 128:
		return bad("device id empty or longer than 128 bytes")
	case e.KeyID == "" || len(e.KeyID) > 128:
		return bad("key_id empty or longer than 128 bytes")
	case len(e.Nonce) < minNonce || len(e.Nonce) > maxNonce:
		return bad("nonce of %d bytes, want %d to %d", len(e.Nonce), minNonce, maxNonce)
	case e.IssuedAt <= 0 || e.ExpiresAt <= 0:
		return bad("issued_at and expires_at must be positive Unix seconds")
	case e.ExpiresAt <= e.IssuedAt:
		return bad("expires_at %d not after issued_at %d", e.ExpiresAt, e.IssuedAt)
	case len(e.Args) > maxArgs:
		return bad("%d args, limit %d", len(e.Args), maxArgs)
	}
	switch e.Name {
	case Update, Reboot, Config, Diagnostics:
	default:
		return bad("unknown command name %q", e.Name)
	}
	switch e.Alg {
	case ES256, Ed25519, "":
	default:
		return bad("unknown alg %q", e.Alg)
	}
	return nil
}

// Canonical returns the bytes the signature covers (see the package doc).
func (e *Envelope) Canonical() []byte {
	var b bytes.Buffer
	b.WriteString("medagent-command-v1")
	b.WriteByte(0)
	field := func(s []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		b.Write(n[:])
		b.Write(s)
	}
	str := func(s string) { field([]byte(s)) }
	str(strconv.Itoa(e.V))
	str(e.Device)
	str(e.Name)
	str(e.Alg)
	str(e.KeyID)
	str(strconv.FormatInt(e.IssuedAt, 10))
	str(strconv.FormatInt(e.ExpiresAt, 10))
	field(e.Nonce)
	keys := make([]string, 0, len(e.Args))
	for k := range e.Args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	str(strconv.Itoa(len(keys)))
	for _, k := range keys {
		str(k)
		str(e.Args[k])
	}
	return b.Bytes()
}

func (e *Envelope) command() Command {
	return Command{
		Device:    e.Device,
		Name:      e.Name,
		Args:      e.Args,
		IssuedAt:  time.Unix(e.IssuedAt, 0).UTC(),
		ExpiresAt: time.Unix(e.ExpiresAt, 0).UTC(),
		Nonce:     base64.StdEncoding.EncodeToString(e.Nonce),
		KeyID:     e.KeyID,
	}
}
