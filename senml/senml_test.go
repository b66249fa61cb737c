package senml

import (
	"bytes"
	"encoding/hex"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/google/go-cmp/cmp"

	"medagent/telemetry"
)

var update = flag.Bool("update", false, "rewrite testdata/ golden files")

const urn = "urn:dev:sn:MA-0001:"

var t0 = time.Date(2026, 11, 29, 5, 0, 0, 250_000_000, time.UTC)

type encodeCase struct {
	name string
	pack telemetry.Pack
	seq  uint64
}

var encodeCases = []encodeCase{
	{"vitals", telemetry.Pack{Stream: "vitals", Class: telemetry.ClassTelemetry, Time: t0, Records: []telemetry.Record{
		{Name: "MDC_ECG_HEART_RATE", Unit: "1/min", Value: telemetry.V(72)},
		{Name: "MDC_PULS_OXIM_SAT_O2", Unit: "%", Value: telemetry.V(97.5)},
		{Name: "MDC_PULS_OXIM_PULS_RATE", Unit: "1/min", Value: telemetry.V(71)},
		{Name: "MDC_TEMP_BODY", Unit: "Cel", Value: telemetry.V(36.8), Offset: 0.5},
	}}, 17},
	{"stats", telemetry.Pack{Stream: "ecg", Class: telemetry.ClassTelemetry, Time: t0.Add(time.Second), Records: []telemetry.Record{
		{Name: "MDC_ECG_HEART_RATE/min", Unit: "1/min", Value: telemetry.V(68.25)},
		{Name: "MDC_ECG_HEART_RATE/max", Unit: "1/min", Value: telemetry.V(75.123456789)},
		{Name: "MDC_ECG_HEART_RATE/mean", Unit: "1/min", Value: telemetry.V(-1e-9)},
	}}, 1},
	{"alarm", telemetry.Pack{Stream: "alarms", Class: telemetry.ClassAlarm, Time: t0, Records: []telemetry.Record{
		{Name: "MDC_EVT_ALARM_ACTIVE", Bool: telemetry.B(true)},
		{Name: "MDC_EVT_ALARM_SOURCE", String: "MDC_ECG_HEART_RATE high \"140\"\n\u00b5\x01"},
		{Name: "MDC_EVT_ALARM_CLEARED", Bool: telemetry.B(false), Offset: 12},
	}}, math.MaxUint64},
	{"waveform", telemetry.Pack{Stream: "ecg-wave", Class: telemetry.ClassTelemetry, Time: t0, Records: []telemetry.Record{
		{Name: "MDC_ECG_ELEC_POTL_II", Unit: "mV", Value: telemetry.V(0.105)},
		{Name: "MDC_ECG_ELEC_POTL_II", Unit: "mV", Value: telemetry.V(0.5), Offset: 0.002},
		{Name: "MDC_ECG_ELEC_POTL_II", Unit: "mV", Value: telemetry.V(1.25e22), Offset: 0.004},
		{Name: "MDC_ECG_ELEC_POTL_II", Unit: "mV", Value: telemetry.V(math.Copysign(0, -1)), Offset: 0.006},
	}}, 300},
	{"simulated", telemetry.Pack{Stream: "ecg", Class: telemetry.ClassTelemetry, Time: t0, Simulated: true, Records: []telemetry.Record{
		{Name: "MDC_ECG_HEART_RATE", Unit: "1/min", Value: telemetry.V(72)},
		{Name: "MDC_ECG_HEART_RATE/valid", Bool: telemetry.B(true), Offset: 0.5},
	}}, 9},
}

// want is what Decode must give for an encoded case.
func want(c encodeCase) Resolved {
	r := Resolved{Seq: c.seq, HasSeq: true}
	bt := float64(c.pack.Time.Unix()) + float64(c.pack.Time.Nanosecond())/1e9
	for _, rec := range c.pack.Records {
		e := Entry{Name: urn + rec.Name, Unit: rec.Unit, Value: rec.Value, Bool: rec.Bool, Time: bt + rec.Offset, Simulated: c.pack.Simulated}
		if rec.String != "" {
			s := rec.String
			e.String = &s
		}
		r.Records = append(r.Records, e)
	}
	return r
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./senml -update to create it)", err)
	}
	if !bytes.Equal(b, got) {
		t.Errorf("%s differs:\n got %s\nwant %s", path, got, b)
	}
}

func TestEncodeGolden(t *testing.T) {
	for _, c := range encodeCases {
		t.Run(c.name, func(t *testing.T) {
			js, err := Encode(nil, c.pack, c.seq, urn, JSON)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", c.name+".json"), append(js, '\n'))
			cb, err := Encode(nil, c.pack, c.seq, urn, CBOR)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", c.name+".cbor.hex"), []byte(hex.EncodeToString(cb)+"\n"))

			for _, f := range []struct {
				f Format
				b []byte
			}{{JSON, js}, {CBOR, cb}} {
				got, err := Decode(f.b, f.f)
				if err != nil {
					t.Fatalf("Decode %v: %v", f.f, err)
				}
				if d := cmp.Diff(want(c), got); d != "" {
					t.Errorf("Decode %v (-want +got):\n%s", f.f, d)
				}
			}
		})
	}
}

// TestCBORDeterministic checks Encode's hand-written CBOR against the cbor
// library: decoding it and re-encoding in core deterministic form must give
// the same bytes, so it is well-formed, sorted and in shortest form.
func TestCBORDeterministic(t *testing.T) {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range encodeCases {
		cb, err := Encode(nil, c.pack, c.seq, urn, CBOR)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := cbor.Unmarshal(cb, &v); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		again, err := em.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(cb, again) {
			t.Errorf("%s: not core deterministic:\n got %x\nwant %x", c.name, cb, again)
		}
	}
}

func TestEncodeAppends(t *testing.T) {
	c := encodeCases[0]
	prefix := []byte("xyz")
	for _, f := range []Format{JSON, CBOR} {
		got, err := Encode(append([]byte(nil), prefix...), c.pack, c.seq, urn, f)
		if err != nil {
			t.Fatal(err)
		}
		alone, _ := Encode(nil, c.pack, c.seq, urn, f)
		if !bytes.Equal(got, append(append([]byte(nil), prefix...), alone...)) {
			t.Errorf("%v: Encode did not append to dst", f)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	ok := telemetry.Record{Name: "MDC_TEMP_BODY", Unit: "Cel", Value: telemetry.V(37)}
	pack := func(recs ...telemetry.Record) telemetry.Pack {
		return telemetry.Pack{Stream: "s", Class: telemetry.ClassTelemetry, Time: t0, Records: recs}
	}
	cases := []struct {
		name string
		p    telemetry.Pack
		bn   string
		want string
	}{
		{"empty pack", pack(), urn, "no records"},
		{"zero time", telemetry.Pack{Stream: "s", Records: []telemetry.Record{ok}}, urn, "no time"},
		{"space in name", pack(telemetry.Record{Name: "MDC TEMP", Value: telemetry.V(1)}), urn, "only A-Z"},
		{"plus in base name", pack(ok), "urn:dev:sn:MA+1:", "base name"},
		{"name starts with colon", pack(ok), ":x:", "must start with a letter"},
		{"empty name", pack(telemetry.Record{Value: telemetry.V(1)}), "", "empty name"},
		{"no value", pack(telemetry.Record{Name: "X"}), urn, "has 0 value fields"},
		{"two values", pack(telemetry.Record{Name: "X", Value: telemetry.V(1), Bool: telemetry.B(true)}), urn, "has 2 value fields"},
		{"NaN", pack(telemetry.Record{Name: "X", Value: telemetry.V(math.NaN())}), urn, "not finite"},
		{"Inf offset", pack(telemetry.Record{Name: "X", Value: telemetry.V(1), Offset: math.Inf(1)}), urn, "not finite"},
		{"bad UTF-8", pack(telemetry.Record{Name: "X", String: "\xff"}), urn, "UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, f := range []Format{JSON, CBOR} {
				dst := []byte("keep")
				got, err := Encode(dst, c.p, 1, c.bn, f)
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("%v: err = %v, want it to contain %q", f, err, c.want)
				}
				if string(got) != "keep" {
					t.Errorf("%v: dst changed on error: %q", f, got)
				}
			}
		})
	}
}

// cborHex encodes v with the cbor library (map keys as given), for decode cases.
func cborOf(t testing.TB, v any) []byte {
	b, err := cbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type decodeCase struct {
	name string
	f    Format
	in   []byte
	want string // error substring; "" means success
}

func decodeCases(t testing.TB) []decodeCase {
	return []decodeCase{
		{"json minimal", JSON, []byte(`[{"n":"urn:x","v":1}]`), ""},
		{"json base fields carried", JSON, []byte(`[{"bn":"a:","bt":10,"bu":"V","bv":1,"n":"x","v":1,"seq":3},{"n":"y","t":2,"v":2}]`), ""},
		{"json unknown field ignored", JSON, []byte(`[{"n":"x","v":1,"foo":{"a":1}}]`), ""},
		{"json must-understand refused", JSON, []byte(`[{"n":"x","v":1,"foo_":1}]`), "must-understand"},
		{"json empty array", JSON, []byte(`[]`), "empty pack"},
		{"json not array", JSON, []byte(`{"n":"x"}`), "decode json"},
		{"json trailing garbage", JSON, []byte(`[{"n":"x","v":1}]x`), "decode json"},
		{"json null record", JSON, []byte(`[null]`), "null"},
		{"json null value", JSON, []byte(`[{"n":"x","v":null}]`), "null value"},
		{"json no value", JSON, []byte(`[{"n":"x"}]`), "0 value fields"},
		{"json two values", JSON, []byte(`[{"n":"x","v":1,"vs":"a"}]`), "2 value fields"},
		{"json bad char", JSON, []byte(`[{"n":"x y","v":1}]`), "only A-Z"},
		{"json name starts with dash", JSON, []byte(`[{"n":"-x","v":1}]`), "must start"},
		{"json no name", JSON, []byte(`[{"v":1}]`), "empty name"},
		{"json string as number", JSON, []byte(`[{"n":"x","v":"1"}]`), "field \"v\""},
		{"json seq in second record", JSON, []byte(`[{"n":"x","v":1},{"n":"y","v":1,"seq":2}]`), "only allowed in the first"},
		{"json negative seq", JSON, []byte(`[{"n":"x","v":1,"seq":-1}]`), "field \"seq\""},
		{"json bver too new", JSON, []byte(`[{"bver":11,"n":"x","v":1}]`), "bver 11"},
		{"json huge number", JSON, []byte(`[{"n":"x","v":1e999}]`), "field \"v\""},
		{"json sum and data", JSON, []byte(`[{"n":"x","s":1},{"n":"y","vd":"AQ"}]`), ""},
		{"cbor minimal", CBOR, cborOf(t, []map[any]any{{0: "urn:x", 2: 1.5}}), ""},
		{"cbor text label for registered field", CBOR, cborOf(t, []map[any]any{{"n": "x", 2: 1}}), "integer label"},
		{"cbor unknown base label", CBOR, cborOf(t, []map[any]any{{0: "x", 2: 1, -99: 1}}), "unknown base label"},
		{"cbor unknown label ignored", CBOR, cborOf(t, []map[any]any{{0: "x", 2: 1, 99: "z"}}), ""},
		{"cbor NaN", CBOR, cborOf(t, []map[any]any{{0: "x", 2: math.NaN()}}), "not finite"},
		{"cbor Inf time", CBOR, cborOf(t, []map[any]any{{0: "x", 2: 1, 6: math.Inf(-1)}}), "not finite"},
		{"cbor bool as number", CBOR, cborOf(t, []map[any]any{{0: "x", 2: true}}), "not a number"},
		{"cbor byte key", CBOR, []byte{0x81, 0xa1, 0x41, 0x01, 0x01}, "map key of type"},
		{"cbor duplicate key", CBOR, []byte{0x81, 0xa2, 0x00, 0x61, 'x', 0x00, 0x61, 'y'}, "decode cbor"},
		{"cbor truncated", CBOR, []byte{0x81, 0xa2, 0x00}, "decode cbor"},
		{"cbor tagged", CBOR, []byte{0x81, 0xc1, 0xa0}, "decode cbor"},
		{"cbor seq text key", CBOR, cborOf(t, []map[any]any{{0: "x", 2: 1, "seq": 9}}), ""},
	}
}

func TestDecode(t *testing.T) {
	for _, c := range decodeCases(t) {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.in, c.f)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestDecodeResolves(t *testing.T) {
	got, err := Decode([]byte(`[{"bn":"a:","bt":10,"bu":"V","bv":1,"n":"x","v":1,"seq":3},{"n":"y","t":2,"v":2,"u":"A"},{"bn":"b:","n":"z","vb":false}]`), JSON)
	if err != nil {
		t.Fatal(err)
	}
	want := Resolved{Seq: 3, HasSeq: true, Records: []Entry{
		{Name: "a:x", Unit: "V", Value: telemetry.V(2), Time: 10},
		{Name: "a:y", Unit: "A", Value: telemetry.V(3), Time: 12},
		{Name: "b:z", Unit: "V", Bool: telemetry.B(false), Time: 10},
	}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if at := got.Records[1].At(); !at.Equal(time.Unix(12, 0)) {
		t.Errorf("At() = %v", at)
	}
}

func TestDecodeLimits(t *testing.T) {
	big := bytes.Repeat([]byte(" "), MaxPayload+1)
	if _, err := Decode(big, JSON); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("oversized payload: err = %v", err)
	}
	many := "[" + strings.Repeat(`{"n":"x","v":1},`, MaxRecords) + `{"n":"x","v":1}]`
	if _, err := Decode([]byte(many), JSON); err == nil || !strings.Contains(err.Error(), "records exceed") {
		t.Errorf("too many records: err = %v", err)
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"": JSON, "json": JSON, "cbor": CBOR} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(xml) did not fail")
	}
}
