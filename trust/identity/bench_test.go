package identity

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"path/filepath"
	"testing"

	"medagent/trust/internal/swtpmtest"
)

// BenchmarkSign measures one ECDSA P-256 signature (one TLS client
// handshake needs one): in swtpm over a Unix socket, and from a key file.
func BenchmarkSign(b *testing.B) {
	d := sha256.Sum256([]byte("x"))
	b.Run("swtpm", func(b *testing.B) {
		sim := swtpmtest.Start(b, filepath.Join(b.TempDir(), "tpm"))
		id, err := Open(Options{TPM: sim.Path})
		if err != nil {
			b.Fatal(err)
		}
		defer id.Close()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := id.Sign(rand.Reader, d[:], crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "us/sign")
	})
	b.Run("file", func(b *testing.B) {
		k, err := CreateKeyFile(filepath.Join(b.TempDir(), "k"))
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := k.Sign(rand.Reader, d[:], crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "us/sign")
	})
}
