package senml

import (
	"fmt"
	"math"
	"time"
)

// Resolved is a decoded SenML pack with base fields folded into every record
// (RFC 8428 §4.6).
type Resolved struct {
	// Seq is the "seq" extension of the first record; HasSeq says whether
	// it was present.
	Seq     uint64
	HasSeq  bool
	Records []Entry
}

// Entry is one resolved record. Exactly one of Value, String, Bool, Data and
// Sum is set.
type Entry struct {
	Name   string // base name + name
	Unit   string // unit, or the base unit
	Value  *float64
	String *string
	Bool   *bool
	Data   *string // "vd": base64url data, kept as text
	Sum    *float64
	// Time is base time + time, in seconds. Times below 2^28 are relative
	// to "now" at the receiver (RFC 8428 §4.5.3); Decode does not apply that.
	Time       float64
	UpdateTime float64 `json:",omitempty"`
	// Simulated is the "sim" extension: the record comes from a simulator.
	Simulated bool `json:",omitempty"`
}

// At returns Time as a time.Time (to the nearest microsecond or so: a float64
// of seconds since 1970 holds about that much).
func (e Entry) At() time.Time {
	sec, frac := math.Modf(e.Time)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9)))
}

// Field presence bits of a raw record.
const (
	hasBver = 1 << iota
	hasBn
	hasBt
	hasBu
	hasBv
	hasBs
	hasN
	hasU
	hasV
	hasVs
	hasVb
	hasVd
	hasS
	hasT
	hasUt
	hasSeq
	hasSim
)

// raw is one record as found on the wire, before resolution.
type raw struct {
	has                  uint32
	bn, bu, n, u, vs, vd string
	bt, bv, bs, v, s, t  float64
	ut                   float64
	vb                   bool
	bver                 uint64
	seq                  uint64
	sim                  bool
}

// supportedVersion is the SenML version this package implements (RFC 8428).
const supportedVersion = 10

func resolve(recs []raw) (Resolved, error) {
	var out Resolved
	out.Records = make([]Entry, 0, len(recs))
	var bn, bu string
	var bt, bv, bs float64
	for i := range recs {
		r := &recs[i]
		if r.has&hasSeq != 0 {
			if i != 0 {
				return Resolved{}, fmt.Errorf("senml: record %d: \"seq\" is only allowed in the first record", i)
			}
			out.Seq, out.HasSeq = r.seq, true
		}
		if r.has&hasBver != 0 && (r.bver < 1 || r.bver > supportedVersion) {
			return Resolved{}, fmt.Errorf("senml: record %d: bver %d not supported (max %d)", i, r.bver, supportedVersion)
		}
		if r.has&hasBn != 0 {
			bn = r.bn
		}
		if r.has&hasBt != 0 {
			bt = r.bt
		}
		if r.has&hasBu != 0 {
			bu = r.bu
		}
		if r.has&hasBv != 0 {
			bv = r.bv
		}
		if r.has&hasBs != 0 {
			bs = r.bs
		}
		if err := checkName(bn, r.n); err != nil {
			return Resolved{}, fmt.Errorf("senml: record %d: %w", i, err)
		}
		e := Entry{Name: bn + r.n, Unit: bu, Time: bt + r.t, UpdateTime: r.ut, Simulated: r.sim}
		if r.has&hasU != 0 {
			e.Unit = r.u
		}
		n := 0
		if r.has&hasV != 0 {
			n++
			v := bv + r.v
			e.Value = &v
		}
		if r.has&hasVs != 0 {
			n++
			s := r.vs
			e.String = &s
		}
		if r.has&hasVb != 0 {
			n++
			b := r.vb
			e.Bool = &b
		}
		if r.has&hasVd != 0 {
			n++
			d := r.vd
			e.Data = &d
		}
		if r.has&hasS != 0 {
			n++
			s := bs + r.s
			e.Sum = &s
		}
		if n != 1 {
			return Resolved{}, fmt.Errorf("senml: record %d (%s): has %d value fields, want exactly 1", i, e.Name, n)
		}
		for _, f := range [...]float64{e.Time, e.UpdateTime, deref(e.Value), deref(e.Sum)} {
			if !finite(f) {
				return Resolved{}, fmt.Errorf("senml: record %d (%s): number is not finite", i, e.Name)
			}
		}
		out.Records = append(out.Records, e)
	}
	if len(out.Records) == 0 {
		return Resolved{}, fmt.Errorf("senml: empty pack")
	}
	return out, nil
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}
