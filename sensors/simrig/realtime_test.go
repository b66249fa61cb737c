package simrig_test

import (
	"testing"
	"time"

	"medagent/sensors"
	"medagent/sensors/ads1292"
	"medagent/sensors/max3010x"
	"medagent/sensors/sim"
	"medagent/sensors/simrig"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"
)

// TestRealTimeClock runs the rig on the wall clock, as the demo does: the
// drivers block on the simulated DRDY/INT lines until conversions are due.
func TestRealTimeClock(t *testing.T) {
	p, err := sim.NewPatient(sim.DefaultPatientOptions())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	clock := func() time.Duration { return time.Since(start) }
	rig, err := simrig.New(simrig.Options{Patient: p, Clock: clock, PPGRate: 400})
	if err != nil {
		t.Fatal(err)
	}
	port, _ := rig.Buses(sensors.Buses{}).SPI("sim", spi.Mode1, 0)
	pin, _ := rig.Buses(sensors.Buses{}).Pin("sim:"+simrig.PinADSDRDY, gpio.PullUp, gpio.FallingEdge)
	d, err := ads1292.New(port, &ads1292.Opts{DRDY: pin, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	var f ads1292.Frame
	received := 0
	for i := 0; i < 50; i++ { // 100 ms at 500 SPS
		if err := d.Read(&f); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		received += 1 + f.Lost
	}
	// Lost frames are possible on a loaded machine but must be accounted:
	// frames read plus lost cover the elapsed conversions.
	if received < 50 {
		t.Fatalf("accounted for %d frames", received)
	}

	bus, _ := rig.Buses(sensors.Buses{}).I2C("sim")
	ipin, _ := rig.Buses(sensors.Buses{}).Pin("sim:"+simrig.PinMAXInt, gpio.PullUp, gpio.FallingEdge)
	m, err := max3010x.New(bus, max3010x.Addr, &max3010x.Opts{IntPin: ipin, SampleRate: 400, PulseWidth: 69, AlmostFull: 17})
	if err != nil {
		t.Fatal(err)
	}
	var st max3010x.Interrupts
	ok, err := m.WaitInterrupt(time.Second, &st) // 17 samples at 400/s: ~43 ms
	if err != nil || !ok || st.Status1&max3010x.IntAFull == 0 {
		t.Fatalf("WaitInterrupt = %v, %v, status %#x", ok, err, st.Status1)
	}
	buf := make([]max3010x.Sample, 32)
	if n, _, err := m.ReadFIFO(buf); err != nil || n < 17 {
		t.Fatalf("ReadFIFO n=%d err=%v, want >= 17 at A_FULL", n, err)
	}
}
