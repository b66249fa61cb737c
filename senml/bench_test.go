package senml

import "testing"

func benchmarkEncode(b *testing.B, f Format) {
	c := encodeCases[0]
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		out, err := Encode(buf[:0], c.pack, c.seq, urn, f)
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.ReportMetric(float64(n), "bytes/pack")
}

// BenchmarkEncodeJSON encodes a 4-record vitals pack into a reused buffer.
func BenchmarkEncodeJSON(b *testing.B) { benchmarkEncode(b, JSON) }

// BenchmarkEncodeCBOR encodes the same pack as CBOR.
func BenchmarkEncodeCBOR(b *testing.B) { benchmarkEncode(b, CBOR) }
