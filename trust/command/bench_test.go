package command

import (
	"crypto"
	"testing"
	"time"
)

// BenchmarkVerify measures a full accepted Verify: decode, signature,
// checks, and the durable nonce write (two fsyncs, which dominate).
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{ES256, Ed25519} {
		b.Run(alg, func(b *testing.B) {
			f := newFixture(b)
			id, k := "ops-ec", f.ec
			if alg == Ed25519 {
				id, k = "ops-ed", f.ed
			}
			payloads := make([][]byte, b.N)
			for i := range payloads {
				payloads[i] = signed(b, envelope(Update), id, k)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := f.v.Verify(t0, payloads[i]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "us/command")
		})
	}
}

// BenchmarkCheck measures decode and signature checks without the nonce
// store: the cost of refusing a flood of forged commands.
func BenchmarkCheck(b *testing.B) {
	for _, alg := range []string{ES256, Ed25519} {
		b.Run(alg, func(b *testing.B) {
			f := newFixture(b)
			var k crypto.Signer = f.ec
			id := "ops-ec"
			if alg == Ed25519 {
				id, k = "ops-ed", f.ed
			}
			p := signed(b, envelope(Update), id, k)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e, err := Decode(p)
				if err != nil {
					b.Fatal(err)
				}
				if err := f.v.check(t0.Add(time.Second), t0.Add(time.Second), e); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commands/s")
		})
	}
}
