package tmp117_test

import (
	"errors"
	"testing"
	"time"

	"medagent/hal/buserr"
	"medagent/sensors/tmp117"
	"medagent/sensors/tmp117/tmp117sim"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"
)

func celsius(t physic.Temperature) float64 {
	return float64(t-physic.ZeroCelsius) / float64(physic.Celsius)
}

// TestPlayback replays the datasheet transaction sequence: read Device_ID
// (0x0F -> 0x0117), write Configuration, read Temp_Result, shut down.
func TestPlayback(t *testing.T) {
	conv, avg := uint8(2), tmp117.Avg1 // 250 ms cycle, no averaging
	bus := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{
		{Addr: 0x48, W: []byte{0x0F}, R: []byte{0x01, 0x17}},
		{Addr: 0x48, W: []byte{0x04}, R: []byte{0x00, 0x00}}, // EEPROM locked
		// MOD=00, CONV=010, AVG=00, DR/Alert=1 -> 0x0104
		{Addr: 0x48, W: []byte{0x01, 0x01, 0x04}},
		{Addr: 0x48, W: []byte{0x00}, R: []byte{0x0C, 0x80}}, // 3200 * 7.8125 m°C = 25 °C
		{Addr: 0x48, W: []byte{0x00}, R: []byte{0xFF, 0x80}}, // -128 LSB = -1 °C
		{Addr: 0x48, W: []byte{0x01, 0x05, 0x04}},            // MOD=01 shutdown
	}}
	d, err := tmp117.New(bus, 0x48, &tmp117.Opts{Conv: &conv, Avg: &avg, DataReadyOnAlert: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Period(); got != 250*time.Millisecond {
		t.Errorf("Period = %v, want 250ms", got)
	}
	var temp physic.Temperature
	for _, want := range []float64{25, -1} {
		if err := d.Sense(&temp); err != nil {
			t.Fatal(err)
		}
		if got := celsius(temp); got != want {
			t.Errorf("Sense = %v °C, want %v", got, want)
		}
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCycleTime(t *testing.T) {
	for _, tc := range []struct {
		conv uint8
		avg  tmp117.Averaging
		want time.Duration
	}{
		{0, tmp117.Avg1, 15500 * time.Microsecond},
		{0, tmp117.Avg8, 125 * time.Millisecond},
		{0, tmp117.Avg64, time.Second},
		{1, tmp117.Avg1, 125 * time.Millisecond},
		{3, tmp117.Avg32, 500 * time.Millisecond},
		{3, tmp117.Avg64, time.Second},
		{4, tmp117.Avg8, time.Second},
		{7, tmp117.Avg1, 16 * time.Second},
	} {
		if got := tmp117.CycleTime(tc.conv, tc.avg); got != tc.want {
			t.Errorf("CycleTime(%d,%d) = %v, want %v", tc.conv, tc.avg, got, tc.want)
		}
	}
}

func ramp(start, step float64) tmp117sim.Waveform {
	v := start
	return func(dst []float64) {
		for i := range dst {
			dst[i] = v
			v += step
		}
	}
}

func TestAgainstSimulator(t *testing.T) {
	chip := tmp117sim.New(0x48, &tmp117sim.Opts{Wave: ramp(36.0, 0.125)})
	d, err := tmp117.New(chip, 0x48, nil)
	if err != nil {
		t.Fatal(err)
	}
	var st tmp117.Status
	if err := d.ReadStatus(&st); err != nil || st.DataReady {
		t.Fatalf("status before first conversion = %+v, %v", st, err)
	}
	chip.Advance(time.Second)
	if err := d.ReadStatus(&st); err != nil || !st.DataReady {
		t.Fatalf("status after 1 s = %+v, %v; want DataReady", st, err)
	}
	if err := d.ReadStatus(&st); err != nil || st.DataReady {
		t.Fatalf("DataReady not cleared by reading config: %+v, %v", st, err)
	}
	var temp physic.Temperature
	if err := d.Sense(&temp); err != nil {
		t.Fatal(err)
	}
	if got := celsius(temp); got != 36.0 {
		t.Fatalf("first conversion = %v °C, want 36", got)
	}
	chip.Advance(time.Second)
	if err := d.Sense(&temp); err != nil {
		t.Fatal(err)
	}
	if got := celsius(temp); got != 36.125 {
		t.Fatalf("second conversion = %v °C, want 36.125", got)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	chip.Advance(5 * time.Second)
	if err := d.Sense(&temp); err != nil {
		t.Fatal(err)
	}
	if got := celsius(temp); got != 36.125 {
		t.Fatalf("after Halt the result changed to %v °C", got)
	}
	if chip.EEPROMWrites() != 0 {
		t.Fatalf("driver wrote EEPROM %d times without being asked", chip.EEPROMWrites())
	}
}

func TestOffset(t *testing.T) {
	chip := tmp117sim.New(0x49, &tmp117sim.Opts{Wave: tmp117sim.Constant(37)})
	off := physic.Temperature(-500 * physic.MilliKelvin)
	d, err := tmp117.New(chip, 0x49, &tmp117.Opts{Offset: &off})
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Offset()
	if err != nil || got != off {
		t.Fatalf("Offset = %v, %v; want %v", got, err, off)
	}
	chip.Advance(time.Second)
	var temp physic.Temperature
	if err := d.Sense(&temp); err != nil {
		t.Fatal(err)
	}
	if c := celsius(temp); c != 36.5 {
		t.Fatalf("Sense with -0.5 K offset = %v °C, want 36.5", c)
	}
	if err := d.SetOffset(300 * physic.Kelvin); !errors.Is(err, buserr.ErrBadConfig) {
		t.Fatalf("SetOffset(300K) = %v, want ErrBadConfig", err)
	}
}

func TestFaults(t *testing.T) {
	t.Run("wrong address NACK", func(t *testing.T) {
		chip := tmp117sim.New(0x48, nil)
		_, err := tmp117.New(chip, 0x49, nil)
		if !errors.Is(err, buserr.ErrNACK) {
			t.Fatalf("New at empty address = %v, want ErrNACK", err)
		}
	})
	t.Run("NACK mid-run", func(t *testing.T) {
		chip := tmp117sim.New(0x48, nil)
		d, err := tmp117.New(chip, 0x48, nil)
		if err != nil {
			t.Fatal(err)
		}
		chip.SetFault(tmp117sim.FaultNACK, true)
		var temp physic.Temperature
		err = d.Sense(&temp)
		if !errors.Is(err, buserr.ErrNACK) {
			t.Fatalf("Sense = %v, want ErrNACK", err)
		}
		if want := "tmp117: read temperature: "; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
			t.Fatalf("error %q lacks prefix %q", err, want)
		}
		chip.SetFault(tmp117sim.FaultNACK, false)
		if err := d.Sense(&temp); err != nil {
			t.Fatalf("Sense after fault cleared = %v", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		chip := tmp117sim.New(0x48, nil)
		chip.SetFault(tmp117sim.FaultTimeout, true)
		if _, err := tmp117.New(chip, 0x48, nil); !errors.Is(err, buserr.ErrTimeout) {
			t.Fatalf("New = %v, want ErrTimeout", err)
		}
	})
	t.Run("wrong ID", func(t *testing.T) {
		chip := tmp117sim.New(0x48, nil)
		chip.SetFault(tmp117sim.FaultWrongID, true)
		_, err := tmp117.New(chip, 0x48, nil)
		var ide *buserr.IDError
		if !errors.Is(err, buserr.ErrWrongID) || !errors.As(err, &ide) || ide.Got != 0x1118 {
			t.Fatalf("New = %v, want IDError{Got:0x1118}", err)
		}
	})
	t.Run("stuck value", func(t *testing.T) {
		chip := tmp117sim.New(0x48, &tmp117sim.Opts{Wave: ramp(30, 0.25)})
		d, err := tmp117.New(chip, 0x48, nil)
		if err != nil {
			t.Fatal(err)
		}
		var temp physic.Temperature
		for i := 0; i < 3; i++ {
			chip.Advance(time.Second)
			if err := d.Sense(&temp); err != nil {
				t.Fatal(err)
			}
		}
		if d.Repeats() != 0 {
			t.Fatalf("Repeats on a ramp = %d, want 0", d.Repeats())
		}
		chip.SetFault(tmp117sim.FaultStuck, true)
		for i := 0; i < 5; i++ {
			chip.Advance(time.Second)
			if err := d.Sense(&temp); err != nil {
				t.Fatal(err)
			}
		}
		if d.Repeats() != 5 {
			t.Fatalf("Repeats with stuck result = %d, want 5", d.Repeats())
		}
	})
	t.Run("bad options", func(t *testing.T) {
		chip := tmp117sim.New(0x48, nil)
		conv := uint8(9)
		if _, err := tmp117.New(chip, 0x48, &tmp117.Opts{Conv: &conv}); !errors.Is(err, buserr.ErrBadConfig) {
			t.Fatalf("conv=9: %v, want ErrBadConfig", err)
		}
		if _, err := tmp117.New(chip, 0x40, nil); !errors.Is(err, buserr.ErrBadConfig) {
			t.Fatalf("addr 0x40: %v, want ErrBadConfig", err)
		}
	})
}

// TestPlaybackEEPROM replays SNOSD82's EEPROM programming sequence: unlock
// (EUN), write the register, poll EEPROM_Busy until clear, lock.
func TestPlaybackEEPROM(t *testing.T) {
	defer tmp117.SetSleep(func(time.Duration) {})()
	bus := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{
		{Addr: 0x4A, W: []byte{0x0F}, R: []byte{0x21, 0x17}}, // die revision 2
		{Addr: 0x4A, W: []byte{0x04}, R: []byte{0x80, 0x00}}, // left unlocked
		{Addr: 0x4A, W: []byte{0x04, 0x00, 0x00}},            // so New locks it
		{Addr: 0x4A, W: []byte{0x01, 0x02, 0x20}},            // defaults
		{Addr: 0x4A, W: []byte{0x07}, R: []byte{0x00, 0x10}}, // offset 16 LSB
		{Addr: 0x4A, W: []byte{0x04, 0x80, 0x00}},            // unlock
		{Addr: 0x4A, W: []byte{0x01, 0x02, 0x20}},
		{Addr: 0x4A, W: []byte{0x04}, R: []byte{0xC0, 0x00}}, // busy
		{Addr: 0x4A, W: []byte{0x04}, R: []byte{0x80, 0x00}}, // done
		{Addr: 0x4A, W: []byte{0x07, 0x00, 0x10}},
		{Addr: 0x4A, W: []byte{0x04}, R: []byte{0x80, 0x00}},
		{Addr: 0x4A, W: []byte{0x04, 0x00, 0x00}}, // lock
	}}
	d, err := tmp117.New(bus, 0x4A, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.ProgramEEPROM(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNewLocksUnlockedEEPROM(t *testing.T) {
	chip := tmp117sim.New(0x48, nil)
	// Leave the part unlocked, as an interrupted programming run would.
	if err := chip.Tx(0x48, []byte{tmp117.RegEEPROMUL, 0x80, 0x00}, nil); err != nil {
		t.Fatal(err)
	}
	off := physic.Temperature(physic.Kelvin)
	if _, err := tmp117.New(chip, 0x48, &tmp117.Opts{Offset: &off}); err != nil {
		t.Fatal(err)
	}
	if n := chip.EEPROMWrites(); n != 0 {
		t.Fatalf("New programmed EEPROM %d times on an unlocked part", n)
	}
}
