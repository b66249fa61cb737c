package max3010x_test

import (
	"errors"
	"testing"
	"time"

	"medagent/hal/buserr"
	"medagent/sensors/max3010x"
	"medagent/sensors/max3010x/max3010xsim"

	"periph.io/x/conn/v3/physic"
)

// counter yields red = k, IR = 100000 + k for sample k.
func counter() max3010xsim.Waveform {
	k := 0.0
	return func(red, ir []float64) {
		for i := range red {
			red[i], ir[i] = k, 100000+k
			k++
		}
	}
}

func newSim(t testing.TB, o *max3010x.Opts) (*max3010xsim.Chip, *max3010x.Dev) {
	t.Helper()
	chip := max3010xsim.New(&max3010xsim.Opts{Wave: counter()})
	d, err := max3010x.New(chip, max3010x.Addr, o)
	if err != nil {
		t.Fatal(err)
	}
	return chip, d
}

func TestSimFIFOWrap(t *testing.T) {
	chip, d := newSim(t, nil) // SpO2, 100 sps
	buf := make([]max3010x.Sample, 32)
	next := uint32(0)
	// 7 rounds of 10 samples push the 5-bit pointers around twice.
	for round := 0; round < 7; round++ {
		chip.Advance(100 * time.Millisecond)
		n, lost, err := d.ReadFIFO(buf)
		if err != nil {
			t.Fatal(err)
		}
		if n != 10 || lost != 0 {
			t.Fatalf("round %d: n=%d lost=%d, want 10, 0", round, n, lost)
		}
		for _, s := range buf[:n] {
			if s.Red != next || s.IR != 100000+next || s.Green != 0 {
				t.Fatalf("round %d: sample %+v, want red %d", round, s, next)
			}
			next++
		}
	}
	if wr := chip.Reg(max3010x.RegFIFOWrPtr); wr != 70%32 {
		t.Fatalf("FIFO_WR_PTR = %d, want %d", wr, 70%32)
	}
}

func TestSimOverflow(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rollover bool
		first    uint32
	}{
		{"drop newest", false, 0},
		{"rollover overwrites oldest", true, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chip, d := newSim(t, &max3010x.Opts{Rollover: tc.rollover})
			chip.Advance(400 * time.Millisecond) // 40 samples into a 32-deep FIFO
			buf := make([]max3010x.Sample, 40)
			n, lost, err := d.ReadFIFO(buf)
			if err != nil {
				t.Fatal(err)
			}
			if n != 32 || lost != 8 {
				t.Fatalf("n=%d lost=%d, want 32 and 8 lost", n, lost)
			}
			for i, s := range buf[:n] {
				if s.Red != tc.first+uint32(i) {
					t.Fatalf("sample %d red=%d, want %d", i, s.Red, tc.first+uint32(i))
				}
			}
			chip.Advance(50 * time.Millisecond)
			n, lost, err = d.ReadFIFO(buf)
			if err != nil || n != 5 || lost != 0 {
				t.Fatalf("after drain: n=%d lost=%d err=%v, want 5, 0", n, lost, err)
			}
		})
	}
	t.Run("counter saturates at 31", func(t *testing.T) {
		chip, d := newSim(t, nil)
		chip.Advance(10 * time.Second)
		_, lost, err := d.ReadFIFO(make([]max3010x.Sample, 32))
		if err != nil || lost != 31 {
			t.Fatalf("lost=%d err=%v, want saturated 31", lost, err)
		}
	})
}

func TestSimResolutionAndAveraging(t *testing.T) {
	chip, d := newSim(t, &max3010x.Opts{PulseWidth: 69, Averaging: 4, SampleRate: 400})
	if d.Rate() != 100 {
		t.Fatalf("Rate = %v", d.Rate())
	}
	chip.Advance(20 * time.Millisecond) // 2 FIFO entries of 4 averaged samples
	buf := make([]max3010x.Sample, 4)
	n, _, err := d.ReadFIFO(buf)
	if err != nil || n != 2 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	// mean(0..3)=1.5 -> 2, 15-bit resolution clears bits 2:0 -> 0;
	// mean(4..7)=5.5 -> 6 -> 0; IR 100001.5 -> 100002 -> 100000.
	if buf[0].Red != 0 || buf[1].Red != 0 || buf[1].IR != 100000 || buf[1].IR&7 != 0 {
		t.Fatalf("samples %+v", buf[:2])
	}
}

func TestSimMultiLED(t *testing.T) {
	chip, d := newSim(t, &max3010x.Opts{Mode: max3010x.MultiLED,
		Slots: [4]max3010x.LED{max3010x.IR, max3010x.Green, max3010x.Red}, LEDCurrent: [3]uint8{1, 2, 3}})
	chip.Advance(10 * time.Millisecond)
	var s [2]max3010x.Sample
	n, _, err := d.ReadFIFO(s[:])
	if err != nil || n != 1 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	if want := (max3010x.Sample{Red: 0, IR: 100000, Green: 100000}); s[0] != want {
		t.Fatalf("sample %+v, want %+v", s[0], want)
	}
}

func TestSimInterruptPin(t *testing.T) {
	chip := max3010xsim.New(&max3010xsim.Opts{Wave: counter()})
	d, err := max3010x.New(chip, max3010x.Addr, &max3010x.Opts{IntPin: chip.IntPin(), AlmostFull: 20})
	if err != nil {
		t.Fatal(err)
	}
	var st max3010x.Interrupts
	ok, err := d.WaitInterrupt(time.Second, &st)
	if err != nil || !ok {
		t.Fatalf("WaitInterrupt = %v, %v", ok, err)
	}
	if st.Status1&max3010x.IntAFull == 0 {
		t.Fatalf("status1 = %#x, want A_FULL", st.Status1)
	}
	buf := make([]max3010x.Sample, 32)
	if n, _, _ := d.ReadFIFO(buf); n != 20 {
		t.Fatalf("FIFO held %d samples at A_FULL, want 20", n)
	}
	// No interrupt within 100 ms: only 10 new samples.
	ok, err = d.WaitInterrupt(100*time.Millisecond, &st)
	if err != nil || ok {
		t.Fatalf("WaitInterrupt(100ms) = %v, %v; want timeout", ok, err)
	}
	_, dNoPin := newSim(t, nil)
	if _, err := dNoPin.WaitInterrupt(time.Second, &st); !errors.Is(err, buserr.ErrBadConfig) {
		t.Fatalf("WaitInterrupt without pin = %v", err)
	}
}

func TestSimDieTemperature(t *testing.T) {
	chip := max3010xsim.New(&max3010xsim.Opts{DieTemp: -5.5})
	defer max3010x.SetSleep(chip.Advance)()
	d, err := max3010x.New(chip, max3010x.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	var temp physic.Temperature
	if err := d.DieTemperature(&temp); err != nil {
		t.Fatal(err)
	}
	if got := float64(temp-physic.ZeroCelsius) / float64(physic.Celsius); got != -5.5 {
		t.Fatalf("die temperature = %v °C, want -5.5", got)
	}
}

func TestSimFaults(t *testing.T) {
	t.Run("NACK at wrong address", func(t *testing.T) {
		chip := max3010xsim.New(nil)
		if _, err := max3010x.New(chip, 0x56, nil); !errors.Is(err, buserr.ErrNACK) {
			t.Fatalf("New = %v, want ErrNACK", err)
		}
	})
	t.Run("timeout mid-run", func(t *testing.T) {
		chip, d := newSim(t, nil)
		chip.SetFault(max3010xsim.FaultTimeout, true)
		_, _, err := d.ReadFIFO(make([]max3010x.Sample, 4))
		if !errors.Is(err, buserr.ErrTimeout) {
			t.Fatalf("ReadFIFO = %v, want ErrTimeout", err)
		}
	})
	t.Run("wrong ID", func(t *testing.T) {
		chip := max3010xsim.New(nil)
		chip.SetFault(max3010xsim.FaultWrongID, true)
		if _, err := max3010x.New(chip, max3010x.Addr, nil); !errors.Is(err, buserr.ErrWrongID) {
			t.Fatalf("New = %v, want ErrWrongID", err)
		}
	})
	t.Run("stuck", func(t *testing.T) {
		chip, d := newSim(t, nil)
		buf := make([]max3010x.Sample, 32)
		chip.Advance(100 * time.Millisecond)
		if _, _, err := d.ReadFIFO(buf); err != nil || d.Repeats() != 0 {
			t.Fatalf("Repeats on changing signal = %d, %v", d.Repeats(), err)
		}
		chip.SetFault(max3010xsim.FaultStuck, true)
		chip.Advance(100 * time.Millisecond)
		if _, _, err := d.ReadFIFO(buf); err != nil || d.Repeats() != 10 {
			t.Fatalf("Repeats with stuck FIFO = %d, %v; want 10", d.Repeats(), err)
		}
	})
	t.Run("bad options", func(t *testing.T) {
		chip := max3010xsim.New(nil)
		for _, o := range []max3010x.Opts{
			{SampleRate: 3200, PulseWidth: 411},
			{SampleRate: 123},
			{Averaging: 3},
			{AlmostFull: 16},
			{Mode: max3010x.MultiLED},
		} {
			if _, err := max3010x.New(chip, max3010x.Addr, &o); !errors.Is(err, buserr.ErrBadConfig) {
				t.Errorf("New(%+v) = %v, want ErrBadConfig", o, err)
			}
		}
	})
}

// BenchmarkReadFIFO reads 1,000 SpO2 samples per iteration (32 per FIFO
// read at 100 sps) from the simulator.
func BenchmarkReadFIFO(b *testing.B) {
	chip, d := newSim(b, nil)
	buf := make([]max3010x.Sample, 32)
	b.ReportAllocs()
	for b.Loop() {
		for got := 0; got < 1000; {
			chip.Advance(250 * time.Millisecond)
			n, _, err := d.ReadFIFO(buf[:min(25, 1000-got)])
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/1000samples")
}

func TestReadFIFODoesNotAllocate(t *testing.T) {
	chip, d := newSim(t, nil)
	buf := make([]max3010x.Sample, 32)
	if n := testing.AllocsPerRun(50, func() {
		chip.Advance(250 * time.Millisecond)
		if n, _, err := d.ReadFIFO(buf); err != nil || n != 25 {
			t.Fatalf("n=%d err=%v", n, err)
		}
	}); n != 0 {
		t.Fatalf("ReadFIFO allocates %v times per call, want 0", n)
	}
}
