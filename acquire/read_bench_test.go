package acquire

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"medagent/config"
	"medagent/sensors"
)

// BenchmarkSensorRead measures one device read of each real driver on its
// simulator, with the blocks reused as a pooling sampler would, and
// reports allocations per sample (the target is 0 in steady state) and
// nanoseconds per sample. The simulators' clock is advanced by hand,
// except the ADS1292R's (real time).
func BenchmarkSensorRead(b *testing.B) {
	for _, tc := range []struct {
		s    config.Sensor
		step time.Duration // simulated time per read
	}{
		{ecgSensor, 40 * time.Millisecond},
		{ppgSensor, 300 * time.Millisecond},
		{tempSensor, time.Second},
		{noninSensor, 0},
	} {
		b.Run(tc.s.Name, func(b *testing.B) {
			var now atomic.Int64
			clock := func() time.Duration { return time.Duration(now.Load()) }
			if tc.s.Name == "ecg" {
				// The ADS1292R is read on DRDY as it comes: real time
				// (so its ns/sample is the 2 ms sample period).
				start := time.Now()
				clock = func() time.Duration { return time.Since(start) }
			}
			cfg := config.Default()
			cfg.Sensors = []config.Sensor{tc.s}
			set, err := openSources(cfg.Sensors, cfg.Sim, clock)
			if err != nil {
				b.Fatal(err)
			}
			defer set.close()
			src := set.srcs[0]
			dev, err := src.open()
			if err != nil {
				b.Fatal(err)
			}
			defer dev.close()
			blocks := make([]sensors.Block, len(src.streams()))
			for i := range blocks {
				blocks[i].Samples = make([]float64, 0, 1024)
				blocks[i].Valid = make([]bool, 0, 1024)
			}
			read := func() int {
				if set.rig.Nonin != nil {
					if err := set.rig.Nonin.WriteFrames(3); err != nil {
						b.Fatal(err)
					}
				}
				now.Add(int64(tc.step))
				for i := range blocks {
					blocks[i].Reset()
				}
				if _, err := dev.read(blocks, time.Duration(now.Load())); err != nil {
					b.Fatal(err)
				}
				return len(blocks[0].Samples)
			}
			for range 3 {
				read() // warm up: first conversions, packet alignment
			}
			var m0, m1 runtime.MemStats
			samples := 0
			runtime.ReadMemStats(&m0)
			b.ResetTimer()
			for b.Loop() {
				samples += read()
			}
			b.StopTimer()
			runtime.ReadMemStats(&m1)
			if samples == 0 {
				b.Fatal("no samples read")
			}
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(samples), "allocs/sample")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(samples), "ns/sample")
		})
	}
}
