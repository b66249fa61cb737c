package tmp117_test

import (
	"testing"
	"time"

	"medagent/sensors/tmp117"
	"medagent/sensors/tmp117/tmp117sim"

	"periph.io/x/conn/v3/physic"
)

// BenchmarkSense reads 1,000 samples per iteration from the simulator and
// reports allocations per sample and CPU time per 1,000 samples.
func BenchmarkSense(b *testing.B) {
	chip := tmp117sim.New(0x48, &tmp117sim.Opts{Wave: ramp(30, 0.01)})
	conv, avg := uint8(0), tmp117.Avg1
	d, err := tmp117.New(chip, 0x48, &tmp117.Opts{Conv: &conv, Avg: &avg})
	if err != nil {
		b.Fatal(err)
	}
	var temp physic.Temperature
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := 0; i < 1000; i++ {
			chip.Advance(15500 * time.Microsecond)
			if err := d.Sense(&temp); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/1000samples")
}

func TestSenseDoesNotAllocate(t *testing.T) {
	chip := tmp117sim.New(0x48, nil)
	d, err := tmp117.New(chip, 0x48, nil)
	if err != nil {
		t.Fatal(err)
	}
	var temp physic.Temperature
	if n := testing.AllocsPerRun(100, func() {
		chip.Advance(time.Second)
		if err := d.Sense(&temp); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("Sense allocates %v times per sample, want 0", n)
	}
}
