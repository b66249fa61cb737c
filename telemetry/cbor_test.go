package telemetry

import (
	"bytes"
	"encoding/hex"
	"math"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// The codec the spool format was defined with (github.com/fxamacker/cbor
// with the struct tags of Pack and Record): the hand-written one must
// write the same bytes and read what it wrote.
var (
	libEnc, _ = func() cbor.EncOptions {
		o := cbor.CoreDetEncOptions()
		o.Time = cbor.TimeRFC3339Nano
		return o
	}().EncMode()
	libDec, _ = cbor.DecOptions{MaxArrayElements: 65536, MaxMapPairs: 64, MaxNestedLevels: 8}.DecMode()
)

var equal = cmp.Options{cmpopts.EquateNaNs()}

// floatCases: halves (normal, subnormal, largest), singles, doubles and
// the values that sit on the edges between them.
var floatCases = []float64{
	0, math.Copysign(0, -1), 1, -1, 0.5, 0.1, 0.105, 1.5, 36.5, 65504, 65505, 65520, 1 << 16, 1 << 24, 1<<24 + 1,
	math.Ldexp(1, -24), math.Ldexp(1, -25), math.Ldexp(3, -24), math.Ldexp(1, -14), math.Ldexp(1023, -24), math.Ldexp(1025, -24),
	math.Ldexp(1, -126), math.Ldexp(1, -149), math.Ldexp(1, -150), math.MaxFloat32, math.MaxFloat32 * 2, math.SmallestNonzeroFloat64,
	math.MaxFloat64, 1e300, -1e-300, math.Inf(1), math.Inf(-1), math.NaN(), 0.004, 1.0 / 3, float64(float32(1.0 / 3)),
}

func casesForCodec() []Pack {
	out := append([]Pack(nil), packCases...)
	var recs []Record
	for i, f := range floatCases {
		recs = append(recs, Record{Name: "MDC_X", Value: V(f), Offset: f}, Record{Name: "n", Offset: float64(i)})
	}
	out = append(out,
		Pack{Stream: "floats", Class: ClassTelemetry, Time: time.Unix(1, 0), Records: recs},
		Pack{Stream: "zero-time-nil-records", Class: ClassEvent},
		Pack{Stream: "empty-records", Class: ClassAlarm, Time: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), Records: []Record{}},
		Pack{Stream: "zone", Class: ClassTelemetry, Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("", -(23*3600+59*60))), Simulated: true,
			Records: []Record{{Name: "b", Bool: B(false)}, {Name: "s", String: "ü \x00 long string of more than twenty-four bytes", Unit: "%"}}},
		Pack{Stream: string(bytes.Repeat([]byte{'s'}, 300)), Class: 255, Time: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
			Records: make([]Record, 65536)},
	)
	return out
}

// TestCodecMatchesLibrary: same bytes as the library, and each reads the
// other's.
func TestCodecMatchesLibrary(t *testing.T) {
	for _, p := range casesForCodec() {
		name := p.Stream[:min(len(p.Stream), 24)]
		want, err := libEnc.Marshal(&p)
		if err != nil {
			t.Fatalf("%s: library: %v", name, err)
		}
		got, err := p.appendCBOR(nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: bytes differ from the library's\n got %x\nwant %x", name, got[:min(len(got), 200)], want[:min(len(want), 200)])
		}
		mine, err := decodePack(want)
		if err != nil {
			t.Fatalf("%s: decode the library's bytes: %v", name, err)
		}
		var lib Pack
		if err := libDec.Unmarshal(got, &lib); err != nil {
			t.Fatalf("%s: library decode: %v", name, err)
		}
		if diff := cmp.Diff(lib, mine, equal); diff != "" {
			t.Fatalf("%s: decoded differently (-library +mine):\n%s", name, diff)
		}
	}
	// One record more than either decoder takes.
	p := Pack{Stream: "big", Class: ClassTelemetry, Records: make([]Record, 65537)}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Unmarshal(b); err == nil {
		t.Error("65537 records decoded")
	}
	if err := libDec.Unmarshal(b, new(Pack)); err == nil {
		t.Error("65537 records decoded by the library")
	}
}

// TestCodecRefuses: what the library could not write (or earlier
// versions never wrote), damage, and bounds.
func TestCodecRefuses(t *testing.T) {
	for _, p := range []Pack{
		{Stream: "year", Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Stream: "year", Time: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Stream: "offset", Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600))},
	} {
		if _, err := p.Marshal(); err == nil {
			t.Errorf("%v: encoded", p.Time)
		}
		if _, err := libEnc.Marshal(&p); err == nil {
			t.Errorf("%v: library encoded", p.Time)
		}
	}
	good, _ := packCases[0].Marshal()
	for name, hx := range map[string]string{
		"empty":              "",
		"not a map":          "80",
		"truncated":          hex.EncodeToString(good[:len(good)-1]),
		"trailing byte":      hex.EncodeToString(good) + "00",
		"indefinite map":     "bf01636563670201ff",
		"text key":           "a16173636563",
		"duplicate key":      "a2016165016166",
		"class 256":          "a2016165021901 00",
		"class text":         "a20161650261 31",
		"records count lies": "a2016165049a00010000",
		"too many records":   "a201616504 9a00010001" + "",
		"65 pairs":           "b841",
		"time float":         "a2016165 03 fb41d954fc40000000",
		"bad time text":      "a2016165 03 6474696d65",
		"invalid utf-8":      "a20162ff6502 01",
		"value not float":    "a20161650481a2016161 03 01",
		"bool not bool":      "a20161650481a2016161 05 f6",
		"tagged unknown":     "a2016165 09 c001",
		"nested too deep":    "a2016165 09 81818181818181818100",
		"two-byte simple":    "a2016165 09 f820",
	} {
		b, err := hex.DecodeString(stripSpaces(hx))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p, err := Unmarshal(b); err == nil {
			t.Errorf("%s: decoded %+v", name, p)
		}
	}
}

// TestCodecSkipsLaterFields: a field a later version adds (after a
// rollback the spool may hold its packs) is passed over.
func TestCodecSkipsLaterFields(t *testing.T) {
	// {1: "e", 2: 1, 9: [{"x": -2}, h'00'], 4: [{1: "n", 7: 1.5, 3: 2.0}]}
	b, _ := hex.DecodeString("a40161650201" + "0982a1617821" + "4100" + "0481a301616e07f93e0003f94000")
	p, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Pack{Stream: "e", Class: ClassTelemetry, Records: []Record{{Name: "n", Value: V(2)}}}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Fatal(diff)
	}
}

func stripSpaces(s string) string { return string(bytes.ReplaceAll([]byte(s), []byte(" "), nil)) }

// FuzzCodecAgainstLibrary: what the hand-written decoder accepts, the
// library accepts as the same pack, and both encoders write it the same.
func FuzzCodecAgainstLibrary(f *testing.F) {
	for _, p := range casesForCodec()[:len(casesForCodec())-1] { // not the 65536 records
		b, _ := p.Marshal()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		mine, err := decodePack(b)
		if err != nil {
			return
		}
		var lib Pack
		if err := libDec.Unmarshal(b, &lib); err != nil {
			t.Fatalf("library refuses what the codec accepted: %v", err)
		}
		if diff := cmp.Diff(lib, mine, equal); diff != "" {
			t.Fatalf("decoded differently (-library +mine):\n%s", diff)
		}
		got, gerr := mine.appendCBOR(nil)
		want, werr := libEnc.Marshal(&mine)
		if (gerr == nil) != (werr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("encoders differ: %x (%v) vs library %x (%v)", got, gerr, want, werr)
		}
	})
}

// FuzzEncodeAgainstLibrary builds packs from fuzzed fields: both encoders
// write the same bytes.
func FuzzEncodeAgainstLibrary(f *testing.F) {
	f.Add("ecg", uint8(1), int64(1700000000), int32(5), 0.105, 0.004, "MDC", "mV", "", uint8(3), int32(0))
	f.Add("", uint8(0), int64(0), int32(0), math.Ldexp(1, -24), 65520.0, "", "", "s", uint8(4), int32(3600))
	f.Fuzz(func(t *testing.T, stream string, class uint8, sec int64, nsec int32, v, off float64, name, unit, str string, flags uint8, zone int32) {
		r := Record{Name: name, Unit: unit, String: str, Offset: off}
		if flags&1 != 0 {
			r.Value = V(v)
		}
		if flags&2 != 0 {
			r.Bool = B(flags&4 != 0)
		}
		p := Pack{Stream: stream, Class: Class(class), Time: time.Unix(sec, int64(nsec)).In(time.FixedZone("", int(zone%(30*3600)))),
			Records: []Record{r, {Name: name, Value: V(off)}}, Simulated: flags&8 != 0}
		if flags&16 != 0 {
			p.Time = time.Time{}
		}
		got, gerr := p.appendCBOR(nil)
		want, werr := libEnc.Marshal(&p)
		if (gerr == nil) != (werr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("encoders differ: %x (%v) vs library %x (%v)", got, gerr, want, werr)
		}
	})
}
