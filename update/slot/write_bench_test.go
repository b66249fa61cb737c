package slot

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// repeatReader yields n bytes cycling through a random block (cheap to
// produce, incompressible for the hash).
type repeatReader struct {
	block []byte
	n, i  int64
}

func (r *repeatReader) Read(b []byte) (int, error) {
	if r.i >= r.n {
		return 0, io.EOF
	}
	if rem := r.n - r.i; int64(len(b)) > rem {
		b = b[:rem]
	}
	m := 0
	for m < len(b) {
		c := copy(b[m:], r.block[(r.i+int64(m))%int64(len(r.block)):])
		m += c
	}
	r.i += int64(m)
	return m, nil
}

// BenchmarkWrite256MiB measures Write (stream + SHA-256 + write-back windows
// + final fsync + read-back comparison) of a 256 MiB payload into a slot file,
// and sha256sum of the same file in the same run. Set MEDAGENT_BENCH_DIR to
// put the slot file on a real disk (default: the test temp dir).
func BenchmarkWrite256MiB(b *testing.B) {
	sha, err := exec.LookPath("sha256sum")
	if err != nil {
		b.Fatal("sha256sum not found: install Debian package coreutils")
	}
	const size = 256 << 20
	dir := os.Getenv("MEDAGENT_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	p := filepath.Join(dir, "slot-bench.img")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	defer os.Remove(p)
	if err := os.Truncate(p, size); err != nil {
		b.Fatal(err)
	}
	block := payload(1 << 20)
	w := &Writer{FlushEvery: DefaultFlushEvery}
	var writeDur, sumDur time.Duration
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if _, err := w.Write(context.Background(), p, &repeatReader{block: block, n: size}, size); err != nil {
			b.Fatal(err)
		}
		writeDur += time.Since(t0)
		t1 := time.Now()
		if out, err := exec.Command(sha, p).CombinedOutput(); err != nil {
			b.Fatalf("sha256sum: %v %s", err, out)
		}
		sumDur += time.Since(t1)
	}
	mib := float64(size) / (1 << 20) * float64(b.N)
	wr := mib / writeDur.Seconds()
	sr := mib / sumDur.Seconds()
	b.ReportMetric(wr, "write_MiB/s")
	b.ReportMetric(sr, "sha256sum_MiB/s")
	b.ReportMetric(wr/sr, "write/sha256sum")
}
