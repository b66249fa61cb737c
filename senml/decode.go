package senml

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// Limits on what Decode accepts.
const (
	MaxPayload = 1 << 20 // bytes
	MaxRecords = 4096
)

// Decode parses a SenML pack in format f and resolves it (see the package
// doc for what it refuses).
func Decode(b []byte, f Format) (Resolved, error) {
	if len(b) > MaxPayload {
		return Resolved{}, fmt.Errorf("senml: payload of %d bytes exceeds %d", len(b), MaxPayload)
	}
	var recs []raw
	var err error
	switch f {
	case JSON:
		recs, err = parseJSON(b)
	case CBOR:
		recs, err = parseCBOR(b)
	default:
		err = fmt.Errorf("senml: decode: unknown format %d", uint8(f))
	}
	if err != nil {
		return Resolved{}, err
	}
	return resolve(recs)
}

// fieldName maps CBOR labels to the JSON names of RFC 8428 §6.
var fieldName = map[int64]string{
	labelBver: "bver", labelBn: "bn", labelBt: "bt", labelBu: "bu", labelBv: "bv", labelBs: "bs",
	labelN: "n", labelU: "u", labelV: "v", labelVs: "vs", labelVb: "vb", labelS: "s",
	labelT: "t", labelUt: "ut", labelVd: "vd",
}

// setField stores the value of field name into r, decoding it with dec.
// Unknown fields are ignored unless they are must-understand (end in "_").
func setField(r *raw, name string, dec func(any) error) error {
	var bit uint32
	var err error
	switch name {
	case "bver":
		bit, err = hasBver, dec(&r.bver)
	case "bn":
		bit, err = hasBn, dec(&r.bn)
	case "bt":
		bit, err = hasBt, dec(&r.bt)
	case "bu":
		bit, err = hasBu, dec(&r.bu)
	case "bv":
		bit, err = hasBv, dec(&r.bv)
	case "bs":
		bit, err = hasBs, dec(&r.bs)
	case "n":
		bit, err = hasN, dec(&r.n)
	case "u":
		bit, err = hasU, dec(&r.u)
	case "v":
		bit, err = hasV, dec(&r.v)
	case "vs":
		bit, err = hasVs, dec(&r.vs)
	case "vb":
		bit, err = hasVb, dec(&r.vb)
	case "vd":
		bit, err = hasVd, dec(&r.vd)
	case "s":
		bit, err = hasS, dec(&r.s)
	case "t":
		bit, err = hasT, dec(&r.t)
	case "ut":
		bit, err = hasUt, dec(&r.ut)
	case "seq":
		bit, err = hasSeq, dec(&r.seq)
	case "sim":
		bit, err = hasSim, dec(&r.sim)
	default:
		if strings.HasSuffix(name, "_") {
			return fmt.Errorf("senml: must-understand field %q is not supported", name)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("senml: field %q: %w", name, err)
	}
	if r.has&bit != 0 {
		return fmt.Errorf("senml: field %q appears twice", name)
	}
	r.has |= bit
	return nil
}

func parseJSON(b []byte) ([]raw, error) {
	var maps []map[string]json.RawMessage
	if err := json.Unmarshal(b, &maps); err != nil {
		return nil, fmt.Errorf("senml: decode json: %w", err)
	}
	if len(maps) > MaxRecords {
		return nil, fmt.Errorf("senml: %d records exceed %d", len(maps), MaxRecords)
	}
	recs := make([]raw, len(maps))
	for i, m := range maps {
		if m == nil {
			return nil, fmt.Errorf("senml: record %d: null", i)
		}
		for k, v := range m {
			err := setField(&recs[i], k, func(dst any) error {
				if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
					return fmt.Errorf("null value")
				}
				return json.Unmarshal(v, dst)
			})
			if err != nil {
				return nil, fmt.Errorf("senml: record %d: %w", i, err)
			}
		}
	}
	return recs, nil
}

// cborDec is made at first use: the device binary encodes SenML only, and
// a decoder made at init would link the whole CBOR library into it.
var cborDec = sync.OnceValue(func() cbor.DecMode {
	m, _ := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		MaxArrayElements: MaxRecords,
		MaxMapPairs:      64,
		MaxNestedLevels:  4,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
		IntDec:           cbor.IntDecConvertSignedOrFail,
	}.DecMode()
	return m
})

func parseCBOR(b []byte) ([]raw, error) {
	var maps []map[any]cbor.RawMessage
	if err := cborDec().Unmarshal(b, &maps); err != nil {
		return nil, fmt.Errorf("senml: decode cbor: %w", err)
	}
	recs := make([]raw, len(maps))
	for i, m := range maps {
		if m == nil {
			return nil, fmt.Errorf("senml: record %d: null", i)
		}
		for k, v := range m {
			var name string
			switch k := k.(type) {
			case int64:
				name = fieldName[k]
				if name == "" {
					if k < 0 {
						// Base fields have negative labels (RFC 8428 §6); one we do not
						// know could change how records resolve, so refuse it (our policy).
						return nil, fmt.Errorf("senml: record %d: unknown base label %d", i, k)
					}
					continue
				}
			case string:
				if _, ok := jsonOnly[k]; ok {
					return nil, fmt.Errorf("senml: record %d: field %q must use its integer label in CBOR", i, k)
				}
				name = k
			default:
				return nil, fmt.Errorf("senml: record %d: map key of type %T", i, k)
			}
			err := setField(&recs[i], name, func(dst any) error {
				if f, ok := dst.(*float64); ok {
					return decodeCBORNumber(v, f)
				}
				return cborDec().Unmarshal(v, dst)
			})
			if err != nil {
				return nil, fmt.Errorf("senml: record %d: %w", i, err)
			}
		}
	}
	return recs, nil
}

// jsonOnly are the registered names, which CBOR must send as labels.
var jsonOnly = func() map[string]struct{} {
	m := make(map[string]struct{}, len(fieldName))
	for _, n := range fieldName {
		m[n] = struct{}{}
	}
	return m
}()

// decodeCBORNumber accepts a CBOR integer or float.
func decodeCBORNumber(b []byte, dst *float64) error {
	var v any
	if err := cborDec().Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case int64:
		*dst = float64(v)
	case uint64:
		*dst = float64(v)
	case float64:
		*dst = v
	default:
		return fmt.Errorf("not a number (%T)", v)
	}
	if math.IsNaN(*dst) || math.IsInf(*dst, 0) {
		return fmt.Errorf("number is not finite")
	}
	return nil
}
