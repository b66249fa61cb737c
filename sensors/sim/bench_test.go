package sim

import (
	"runtime"
	"testing"
)

// perSample reports ns and heap allocations per sample for a benchmark
// whose every iteration reads block samples.
func perSample(b *testing.B, block int, read func()) {
	b.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		read()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	samples := float64(b.N) * float64(block)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/samples, "ns/sample")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/samples, "allocs/sample")
}

// BenchmarkECG500 is the default ECG at 500 Hz, read in 100 ms blocks.
func BenchmarkECG500(b *testing.B) {
	e := mustECG(b, mustPatient(b, DefaultPatientOptions()), DefaultECGOptions())
	d, v := make([]float64, 50), make([]bool, 50)
	perSample(b, len(d), func() { e.Read(d, v) })
}

// BenchmarkPPG100 is the default red/IR PPG at 100 Hz, read in 100 ms
// blocks.
func BenchmarkPPG100(b *testing.B) {
	s := mustPPG(b, mustPatient(b, DefaultPatientOptions()), DefaultPPGOptions())
	r, ir, v := make([]float64, 10), make([]float64, 10), make([]bool, 10)
	perSample(b, len(r), func() { s.Read(r, ir, v) })
}

// BenchmarkTemp1 is the default temperature at 1 Hz, read a sample at a
// time.
func BenchmarkTemp1(b *testing.B) {
	s := mustTemp(b, mustPatient(b, DefaultPatientOptions()), DefaultTempOptions())
	d, v := make([]float64, 1), make([]bool, 1)
	perSample(b, 1, func() { s.Read(d, v) })
}
