package tmp117_test

import (
	"errors"
	"testing"
	"time"

	"medagent/hal/buserr"
	"medagent/sensors/tmp117"
	"medagent/sensors/tmp117/tmp117sim"

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
