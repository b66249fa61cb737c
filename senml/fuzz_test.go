package senml

import (
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode in both formats. Seeds are the
// golden payloads and the decode table cases. Whatever Decode accepts must
// satisfy the invariants it promises.
func FuzzDecode(f *testing.F) {
	for _, c := range decodeCases(f) {
		f.Add(c.in, c.f == CBOR)
	}
	for _, c := range encodeCases {
		js, err := os.ReadFile(filepath.Join("testdata", c.name+".json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(js, false)
		hx, err := os.ReadFile(filepath.Join("testdata", c.name+".cbor.hex"))
		if err != nil {
			f.Fatal(err)
		}
		cb, err := hex.DecodeString(strings.TrimSpace(string(hx)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(cb, true)
	}
	f.Fuzz(func(t *testing.T, b []byte, isCBOR bool) {
		format := JSON
		if isCBOR {
			format = CBOR
		}
		r, err := Decode(b, format)
		if err != nil {
			return
		}
		if len(r.Records) == 0 {
			t.Fatal("accepted an empty pack")
		}
		for i, e := range r.Records {
			if e.Name == "" || !validName(e.Name) || !alnum(e.Name[0]) {
				t.Fatalf("record %d: accepted name %q", i, e.Name)
			}
			n := 0
			for _, set := range []bool{e.Value != nil, e.String != nil, e.Bool != nil, e.Data != nil, e.Sum != nil} {
				if set {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("record %d: %d value fields", i, n)
			}
			for _, v := range []float64{e.Time, e.UpdateTime, deref(e.Value), deref(e.Sum)} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("record %d: non-finite number accepted", i)
				}
			}
		}
	})
}
