package ppg

import "testing"

func synthBuffer(rate float64, seconds float64) (red, ir []float64) {
	s := defaultSynth(95)
	s.rate = rate
	s.noise = 20
	n := int(rate * seconds)
	red, ir = make([]float64, n), make([]float64, n)
	for i := range n {
		red[i], ir[i] = s.at(i)
	}
	return red, ir
}

// BenchmarkProcessor100Hz measures one sample pair at 100 Hz in steady
// state (pulses being detected and averaged).
func BenchmarkProcessor100Hz(b *testing.B) {
	red, ir := synthBuffer(100, 60)
	p := newP(b, nil)
	for i := range red { // warm up: filters settled, averages full
		p.Push(red[i], ir[i], true)
	}
	b.ReportAllocs()
	b.ResetTimer()
	j := 0
	for b.Loop() {
		p.Push(red[j], ir[j], true)
		j++
		if j == len(red) {
			j = 0
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/sample")
}

func TestZeroAllocsPerSample(t *testing.T) {
	red, ir := synthBuffer(100, 20)
	p := newP(t, nil)
	for i := range red {
		p.Push(red[i], ir[i], true)
	}
	j := 0
	allocs := testing.AllocsPerRun(2000, func() {
		p.Push(red[j%len(red)], ir[j%len(red)], j%500 != 0)
		j++
	})
	if allocs != 0 {
		t.Errorf("%.2f allocations per sample, want 0", allocs)
	}
}
