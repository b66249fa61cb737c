package simrig_test

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"medagent/config"
	"medagent/sensors"
	"medagent/sensors/registry"
	"medagent/sensors/simrig"
)

// BenchmarkSensorRead measures one device read of each real driver on its
// simulator, with the blocks reused as a pooling sampler would, and
// reports allocations per sample (the target is 0 in steady state) and
// nanoseconds per sample. The simulators' clock is advanced by hand,
// except the ADS1292R's (real time).
func BenchmarkSensorRead(b *testing.B) {
	for _, tc := range []struct {
		s    sensors.Config
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
			rig, src, dev := openOnRig(b, tc.s, clock)
			blocks := make([]sensors.Block, len(src.Streams))
			for i := range blocks {
				blocks[i].Samples = make([]float64, 0, 1024)
				blocks[i].Valid = make([]bool, 0, 1024)
			}
			read := func() int {
				if rig.Nonin != nil {
					if err := rig.Nonin.WriteFrames(3); err != nil {
						b.Fatal(err)
					}
				}
				now.Add(int64(tc.step))
				for i := range blocks {
					blocks[i].Reset()
				}
				if _, err := dev.Read(blocks, time.Duration(now.Load())); err != nil {
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

// Sensor entries as the default configuration has them, and a Nonin.
var (
	ecgSensor   = sensors.Config{Name: "ecg", Driver: "ads1292", Rate: 500, Bus: "sim", DRDY: "sim:ads-drdy", SPIMode: 1}
	ppgSensor   = sensors.Config{Name: "ppg", Driver: "max3010x", Rate: 100, Bus: "sim", Address: 0x57}
	tempSensor  = sensors.Config{Name: "temp", Driver: "tmp117", Rate: 1, Bus: "sim", Address: 0x48}
	noninSensor = sensors.Config{Name: "oxi", Driver: "nonin", Bus: "sim"}
)

// openOnRig resolves c through the registry and opens it on a rig built
// for it, on clock; both are closed when the test ends.
func openOnRig(tb testing.TB, c sensors.Config, clock func() time.Duration) (*simrig.Rig, sensors.Source, sensors.Device) {
	tb.Helper()
	rig, err := simrig.ForSensors([]sensors.Config{c}, config.Default().Sim, clock)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rig.Close() })
	src, err := registry.Resolve(c)
	if err != nil {
		tb.Fatal(err)
	}
	dev, err := src.Open(rig.Buses(sensors.Buses{}))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { dev.Close() })
	return rig, src, dev
}

// A simulated Nonin read frame by frame without real time: frames with a
// bad checksum are dropped and counted, and take their place as invalid
// samples: 25 good frames, 10 corrupt,
// 20 good read as 25 valid, 10 invalid, 20 valid samples.
func TestNoninBadChecksumSamplesInPlace(t *testing.T) {
	rig, _, dev := openOnRig(t, noninSensor, func() time.Duration { return 0 })
	ox := rig.Nonin
	for _, step := range []func() error{
		func() error { return ox.WriteFrames(25) },
		func() error { ox.CorruptNext(10); return ox.WriteFrames(10) },
		func() error { return ox.WriteFrames(20) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	b := make([]sensors.Block, 3)
	var bad int
	for len(b[2].Samples) < 55 {
		st, err := dev.Read(b, 0)
		if err != nil {
			t.Fatalf("after %d samples: %v", len(b[2].Samples), err)
		}
		bad += st.Bad
	}
	var got []bool
	for _, v := range b[2].Valid {
		if len(got) == 0 || got[len(got)-1] != v {
			got = append(got, v)
		}
	}
	if len(b[2].Samples) != 55 || bad < 1 {
		t.Fatalf("%d samples, %d bad frames: want 55 samples and the bad frames counted", len(b[2].Samples), bad)
	}
	for i, v := range b[2].Valid {
		if want := i < 25 || i >= 35; v != want {
			t.Fatalf("pleth sample %d valid = %v, want %v (runs %v)", i, v, want, got)
		}
	}
}
