package telemetry

import (
	"fmt"
	"time"
)

// Class says how a pack is kept in the spool and which topic it goes to.
// Alarms and events outlive telemetry when the spool is full.
type Class uint8

// The classes, in the order the spool protects them (higher survives longer).
const (
	ClassTelemetry Class = 1
	ClassEvent     Class = 2
	ClassAlarm     Class = 3
)

// Topic is the topic segment of a class: medagent/v1/{device}/{topic}/{stream}.
func (c Class) Topic() string {
	switch c {
	case ClassTelemetry:
		return "telemetry"
	case ClassEvent:
		return "events"
	case ClassAlarm:
		return "alarms"
	}
	return "unknown"
}

func (c Class) String() string { return c.Topic() }

// StreamCommandResult is the event stream of command results (package
// trust/command): each pack holds one record of that name whose String is
// the result's JSON, which the uplink publishes as it is on the topic
// {prefix}/{device}/cmd-result instead of as SenML.
const StreamCommandResult = "cmd-result"

// CommandResult returns the JSON of a command-result pack; ok is false for
// any other pack.
func (p *Pack) CommandResult() (b []byte, ok bool) {
	if p.Class != ClassEvent || p.Stream != StreamCommandResult || len(p.Records) != 1 || p.Records[0].Name != StreamCommandResult {
		return nil, false
	}
	return []byte(p.Records[0].String), true
}

// Record is one SenML record: a named value at an offset from the pack time.
// Name is an IEEE 11073-10101 reference ID (MDC_...), optionally with a
// "/min", "/max" or "/mean" suffix for window statistics. Exactly one of
// Value, String or Bool is set.
type Record struct {
	Name   string   `cbor:"1,keyasint"`
	Unit   string   `cbor:"2,keyasint,omitempty"`
	Value  *float64 `cbor:"3,keyasint,omitempty"`
	String string   `cbor:"4,keyasint,omitempty"`
	Bool   *bool    `cbor:"5,keyasint,omitempty"`
	// Offset from Pack.Time, in seconds (SenML "t" relative to "bt").
	Offset float64 `cbor:"6,keyasint,omitempty"`
}

// Pack is what one stream produced in one window.
type Pack struct {
	Stream  string    `cbor:"1,keyasint"`
	Class   Class     `cbor:"2,keyasint"`
	Time    time.Time `cbor:"3,keyasint"`
	Records []Record  `cbor:"4,keyasint"`
	// Simulated marks a pack made from a simulator (a sensor on bus
	// "sim", bench builds only), never from a patient: SenML carries it
	// as "sim": true on every record, status shows it.
	Simulated bool `cbor:"5,keyasint,omitempty"`
}

// V returns a pointer to v, for Record.Value.
func V(v float64) *float64 { return &v }

// B returns a pointer to b, for Record.Bool.
func B(b bool) *bool { return &b }

// Marshal encodes p for the spool.
func (p *Pack) Marshal() ([]byte, error) {
	n := 32
	for i := range p.Records {
		r := &p.Records[i]
		n += 32 + len(r.Name) + len(r.Unit) + len(r.String)
	}
	b, err := p.appendCBOR(make([]byte, 0, n+len(p.Stream)))
	if err != nil {
		return nil, fmt.Errorf("telemetry: encode pack %q: %w", p.Stream, err)
	}
	return b, nil
}

// Unmarshal decodes a pack written by Marshal (or by earlier versions:
// times in whole Unix seconds; fields added later are skipped).
func Unmarshal(b []byte) (Pack, error) {
	p, err := decodePack(b)
	if err != nil {
		return Pack{}, fmt.Errorf("telemetry: decode pack: %w", err)
	}
	if p.Stream == "" {
		return Pack{}, fmt.Errorf("telemetry: decode pack: no stream name")
	}
	if p.Class < ClassTelemetry || p.Class > ClassAlarm {
		return Pack{}, fmt.Errorf("telemetry: decode pack %q: unknown class %d", p.Stream, p.Class)
	}
	return p, nil
}
