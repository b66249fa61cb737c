package simrig_test

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"medagent/hal"
	"medagent/sensors"
	"medagent/sensors/ads1292"
	"medagent/sensors/max3010x"
	"medagent/sensors/nonin"
	"medagent/sensors/sim"
	"medagent/sensors/simrig"
	"medagent/sensors/tmp117"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

func newRig(t *testing.T) (*simrig.Rig, *time.Duration) {
	t.Helper()
	po := sim.DefaultPatientOptions()
	po.HeartRate, po.SpO2, po.TempC = 75, 97, 37
	p, err := sim.NewPatient(po)
	if err != nil {
		t.Fatal(err)
	}
	now := new(time.Duration)
	rig, err := simrig.New(simrig.Options{Patient: p, Clock: func() time.Duration { return *now },
		NoninLink: filepath.Join(t.TempDir(), "nonin")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rig.Close() })
	return rig, now
}

// TestRigDrivers runs every real driver through hal's "sim" buses against
// one simulated patient and checks the values are the patient's.
func TestRigDrivers(t *testing.T) {
	rig, now := newRig(t)
	bus, err := rig.Buses(sensors.Buses{}).I2C("sim")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("tmp117", func(t *testing.T) {
		d, err := tmp117.New(bus, simrig.TMP117Addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		*now += 3 * time.Second
		var temp physic.Temperature
		if err := d.Sense(&temp); err != nil {
			t.Fatal(err)
		}
		if c := float64(temp-physic.ZeroCelsius) / float64(physic.Celsius); math.Abs(c-37) > 0.5 {
			t.Fatalf("temperature %v °C, patient is at 37", c)
		}
	})
	t.Run("max3010x", func(t *testing.T) {
		pin, err := rig.Buses(sensors.Buses{}).Pin("sim:"+simrig.PinMAXInt, gpio.PullUp, gpio.FallingEdge)
		if err != nil {
			t.Fatal(err)
		}
		d, err := max3010x.New(bus, max3010x.Addr, &max3010x.Opts{IntPin: pin})
		if err != nil {
			t.Fatal(err)
		}
		*now += 200 * time.Millisecond
		buf := make([]max3010x.Sample, 32)
		n, lost, err := d.ReadFIFO(buf)
		if err != nil || n != 20 || lost != 0 {
			t.Fatalf("ReadFIFO n=%d lost=%d err=%v, want 20 samples", n, lost, err)
		}
		for _, s := range buf[:n] {
			if s.Red < 60000 || s.Red > 120000 || s.IR < 70000 || s.IR > 130000 {
				t.Fatalf("sample %+v far from the default DC levels 90000/100000", s)
			}
		}
	})
	t.Run("ads1292", func(t *testing.T) {
		port, err := rig.Buses(sensors.Buses{}).SPI("sim", spi.Mode1, physic.MegaHertz)
		if err != nil {
			t.Fatal(err)
		}
		pin, err := rig.Buses(sensors.Buses{}).Pin("sim:"+simrig.PinADSDRDY, gpio.PullUp, gpio.FallingEdge)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ads1292.New(port, &ads1292.Opts{DRDY: pin, LeadOff: true, Clock: func() time.Duration { return *now }})
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		var f ads1292.Frame
		for i := 0; i < 1000; i++ { // 2 s at 500 SPS: at least two beats
			*now += d.Period()
			if err := d.Read(&f); err != nil {
				t.Fatal(err)
			}
			if f.Lost != 0 || f.LeadOff != 0 {
				t.Fatalf("frame %d lost=%d leadoff=%#x", i, f.Lost, f.LeadOff)
			}
			lo, hi = min(lo, f.MV[1]), max(hi, f.MV[1])
		}
		if hi-lo < 0.8 || hi-lo > 5 {
			t.Fatalf("ECG range %.3f..%.3f mV; want R waves of about 1.2 mV", lo, hi)
		}
	})
	t.Run("nonin", func(t *testing.T) {
		p, err := hal.OpenSerial(rig.Nonin.Path(), hal.SerialFraming{Baud: 9600, DataBits: 8, StopBits: 1}, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if err := rig.Nonin.WriteFrames(6 * nonin.FramesPerPacket); err != nil {
			t.Fatal(err)
		}
		d := nonin.New(p)
		var f nonin.Frame
		plethLo, plethHi := 255, 0
		for packets := 0; packets < 6; {
			pk, err := d.Read(&f)
			if err != nil {
				t.Fatal(err)
			}
			plethLo, plethHi = min(plethLo, int(f.Pleth)), max(plethHi, int(f.Pleth))
			if pk {
				packets++
			}
		}
		if pk := d.Packet(); pk.HR != 75 || pk.SpO2 != 97 {
			t.Fatalf("Nonin HR=%d SpO2=%d, patient 75/97", pk.HR, pk.SpO2)
		}
		if plethHi-plethLo < 20 {
			t.Fatalf("pleth range %d..%d is flat", plethLo, plethHi)
		}
	})
}
