package tmp117_test

import (
	"errors"
	"testing"
	"time"

	"medagent/hal/buserr"
	"medagent/sensors"
	"medagent/sensors/tmp117"
	"medagent/sensors/tmp117/tmp117sim"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
)

func TestOneShot(t *testing.T) {
	chip := tmp117sim.New(0x48, &tmp117sim.Opts{Wave: ramp(20, 1)})
	var slept time.Duration
	defer tmp117.SetSleep(func(d time.Duration) { slept += d; chip.Advance(d) })()
	avg := tmp117.Avg32
	d, err := tmp117.New(chip, 0x48, &tmp117.Opts{Mode: tmp117.OneShot, Avg: &avg})
	if err != nil {
		t.Fatal(err)
	}
	// Idle in shutdown: no conversions happen between Sense calls.
	chip.Advance(time.Minute)
	var temp physic.Temperature
	for _, want := range []float64{20, 21} {
		slept = 0
		if err := d.Sense(&temp); err != nil {
			t.Fatal(err)
		}
		if got := celsius(temp); got != want {
			t.Fatalf("one-shot = %v °C, want %v", got, want)
		}
		if slept != 500*time.Millisecond {
			t.Fatalf("waited %v for a 32-average conversion, want 500ms", slept)
		}
		if m := chip.Reg(tmp117.RegConfig) >> 10 & 3; m != uint16(tmp117.Shutdown) {
			t.Fatalf("mode after one-shot = %d, want shutdown", m)
		}
	}
}

func TestOneShotNeverReady(t *testing.T) {
	chip := tmp117sim.New(0x48, nil)
	// The clock never moves, so the conversion never completes.
	defer tmp117.SetSleep(func(time.Duration) {})()
	d, err := tmp117.New(chip, 0x48, &tmp117.Opts{Mode: tmp117.OneShot})
	if err != nil {
		t.Fatal(err)
	}
	var temp physic.Temperature
	if err := d.Sense(&temp); !errors.Is(err, buserr.ErrTimeout) {
		t.Fatalf("Sense = %v, want ErrTimeout", err)
	}
}

func TestProgramEEPROM(t *testing.T) {
	chip := tmp117sim.New(0x48, nil)
	polls := 0
	defer tmp117.SetSleep(func(d time.Duration) { polls++; chip.Advance(d) })()
	conv := uint8(6)
	off := physic.Temperature(250 * physic.MilliKelvin)
	d, err := tmp117.New(chip, 0x48, &tmp117.Opts{Conv: &conv, Offset: &off})
	if err != nil {
		t.Fatal(err)
	}
	if chip.EEPROMWrites() != 0 {
		t.Fatalf("New wrote EEPROM")
	}
	if err := d.ProgramEEPROM(); err != nil {
		t.Fatal(err)
	}
	if chip.EEPROMWrites() != 2 {
		t.Fatalf("EEPROM writes = %d, want 2 (config, offset)", chip.EEPROMWrites())
	}
	if polls < 14 {
		t.Fatalf("driver polled busy %d times; 7 ms programming needs >= 7 per write", polls)
	}
	if chip.Reg(tmp117.RegEEPROMUL)&tmp117.ULUnlock != 0 {
		t.Fatal("EEPROM left unlocked")
	}
	chip.PowerCycle()
	if got := chip.Reg(tmp117.RegConfig) >> 7 & 7; got != 6 {
		t.Fatalf("CONV after power cycle = %d, want 6 from EEPROM", got)
	}
	if got := chip.Reg(tmp117.RegOffset); got != 32 {
		t.Fatalf("offset after power cycle = %d LSB, want 32", got)
	}
}

func TestAlertPinDataReady(t *testing.T) {
	chip := tmp117sim.New(0x48, &tmp117sim.Opts{Wave: ramp(30, 0.5)})
	conv := uint8(2) // 250 ms
	d, err := tmp117.New(chip, 0x48, &tmp117.Opts{Conv: &conv, AlertPin: chip.AlertPin()})
	if err != nil {
		t.Fatal(err)
	}
	if chip.Reg(tmp117.RegConfig)&tmp117.CfgDRAlert == 0 {
		t.Fatal("AlertPin did not set DR/Alert")
	}
	var temp physic.Temperature
	for i, want := range []float64{30, 30.5, 31} {
		ok, err := d.WaitDataReady(time.Second)
		if err != nil || !ok {
			t.Fatalf("conversion %d: WaitDataReady = %v, %v", i, ok, err)
		}
		if err := d.Sense(&temp); err != nil {
			t.Fatal(err)
		}
		if got := celsius(temp); got != want {
			t.Fatalf("conversion %d = %v °C, want %v", i, got, want)
		}
	}
	// Within 100 ms of the last conversion no new one comes.
	if ok, err := d.WaitDataReady(100 * time.Millisecond); err != nil || ok {
		t.Fatalf("WaitDataReady(100ms) = %v, %v; want no edge", ok, err)
	}
	plain, err := tmp117.New(tmp117sim.New(0x48, nil), 0x48, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.WaitDataReady(time.Second); !errors.Is(err, buserr.ErrBadConfig) {
		t.Fatalf("WaitDataReady without pin = %v", err)
	}
}

// nopClose makes the simulated chip a bus the adapter may close.
type nopClose struct{ *tmp117sim.Chip }

func (nopClose) Close() error { return nil }

// The agent's one-shot TMP117 at 1/s, polled every 30 ms (the sampler's
// tick does not divide the period): one result a second, each read on the
// first call after its conversion ended (the call never waits for it), on
// a fixed schedule rather than one conversion per "a second and a tick".
func TestOneShotAdapterNeverWaits(t *testing.T) {
	var now time.Duration
	chip := tmp117sim.New(0x48, &tmp117sim.Opts{Wave: ramp(36, 0), Clock: func() time.Duration { return now }})
	defer tmp117.SetSleep(func(d time.Duration) { t.Fatalf("the adapter slept %v in Read", d) })()
	src, err := tmp117.Descriptor.Source(sensors.Config{Name: "temp", Driver: "tmp117", Rate: 1, Bus: "sim", Address: 0x48,
		Settings: &tmp117.Settings{Mode: "oneshot", Averaging: 8}})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := src.Open(sensors.Buses{I2C: func(string) (i2c.BusCloser, error) { return nopClose{chip}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var first time.Duration
	b := make([]sensors.Block, 1)
	for ; now < 100*time.Second; now += 30 * time.Millisecond {
		b[0].Reset()
		if _, err := dev.Read(b, now); err != nil {
			t.Fatalf("at %v: %v", now, err)
		}
		if len(b[0].Samples) > 0 && n == 0 {
			first = now
		}
		n += len(b[0].Samples)
	}
	if n < 99 || n > 101 {
		t.Fatalf("%d samples in 100 s at 1/s", n)
	}
	// An 8-average conversion takes 125 ms; its result is read at the next
	// 30 ms tick after that.
	if first < 125*time.Millisecond || first > 155*time.Millisecond {
		t.Fatalf("first result read at %v, want within a tick of the 125 ms conversion", first)
	}
}
