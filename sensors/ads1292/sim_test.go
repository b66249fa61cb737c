package ads1292_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"medagent/hal/buserr"
	"medagent/sensors/ads1292"
	"medagent/sensors/ads1292/ads1292sim"

	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// sine gives a 1 mV 10 Hz ECG-like tone on channel 2 and a slow 0.2 mV
// respiration tone on channel 1, sampled at rate.
func sine(rate float64) ads1292sim.Waveform {
	k := 0
	return func(ch1, ch2 []float64) {
		for i := range ch1 {
			ts := float64(k) / rate
			ch1[i] = 0.2 * math.Sin(2*math.Pi*0.3*ts)
			ch2[i] = math.Sin(2 * math.Pi * 10 * ts)
			k++
		}
	}
}

func newSim(t testing.TB, o ads1292.Opts, wave ads1292sim.Waveform) (*ads1292sim.Chip, *ads1292.Dev) {
	t.Helper()
	chip := ads1292sim.New(&ads1292sim.Opts{Wave: wave})
	o.DRDY, o.Clock = chip.DRDY(), chip.Now
	defer ads1292.SetSleep(chip.Advance)()
	d, err := ads1292.New(chip, &o)
	if err != nil {
		t.Fatal(err)
	}
	return chip, d
}

func TestSimContinuous(t *testing.T) {
	chip, d := newSim(t, ads1292.Opts{Rate: 250, Gain: [2]int{2, 12}, Respiration: true, RLD: true}, sine(250))
	if chip.Reg(ads1292.RegResp1) != 0xEA || chip.Reg(ads1292.RegCH2SET) != 0x60 || chip.Reg(ads1292.RegConfig1) != 0x01 {
		t.Fatalf("registers RESP1=%#x CH2SET=%#x CONFIG1=%#x", chip.Reg(ads1292.RegResp1),
			chip.Reg(ads1292.RegCH2SET), chip.Reg(ads1292.RegConfig1))
	}
	if d.Period() != 4*time.Millisecond {
		t.Fatalf("Period = %v", d.Period())
	}
	ref := sine(250)
	var want1, want2 [1]float64
	var f ads1292.Frame
	for i := 0; i < 500; i++ {
		if err := d.Read(&f); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		ref(want1[:], want2[:])
		if f.Lost != 0 || f.LeadOff != 0 {
			t.Fatalf("frame %d: lost=%d leadoff=%#x", i, f.Lost, f.LeadOff)
		}
		if math.Abs(f.MV[0]-want1[0]) > d.LSB(0) || math.Abs(f.MV[1]-want2[0]) > d.LSB(1) {
			t.Fatalf("frame %d: got %v mV, want %v / %v", i, f.MV, want1[0], want2[0])
		}
	}
}

func TestSimLostFrames(t *testing.T) {
	chip, d := newSim(t, ads1292.Opts{}, sine(500))
	var f ads1292.Frame
	if err := d.Read(&f); err != nil {
		t.Fatal(err)
	}
	chip.Advance(10 * d.Period()) // the reader stalls for 10 periods
	if err := d.Read(&f); err != nil {
		t.Fatal(err)
	}
	if f.Lost != 9 {
		t.Fatalf("Lost = %d, want 9 (10 frames converted, newest read)", f.Lost)
	}
	if err := d.Read(&f); err != nil || f.Lost != 0 {
		t.Fatalf("next Read: lost=%d err=%v", f.Lost, err)
	}
}

func TestSimLeadOff(t *testing.T) {
	for _, tc := range []struct {
		name    string
		enabled bool
		off     uint8
		want    uint8
	}{
		{"RA (IN2N) off", true, ads1292.LeadOffIN2N, ads1292.LeadOffIN2N},
		{"two electrodes", true, ads1292.LeadOffIN1P | ads1292.LeadOffIN2P, ads1292.LeadOffIN1P | ads1292.LeadOffIN2P},
		{"detection disabled", false, ads1292.LeadOffIN2N, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chip, d := newSim(t, ads1292.Opts{LeadOff: tc.enabled}, nil)
			chip.SetLeadOff(tc.off)
			var f ads1292.Frame
			if err := d.Read(&f); err != nil {
				t.Fatal(err)
			}
			if f.LeadOff != tc.want {
				t.Fatalf("LeadOff = %#x, want %#x", f.LeadOff, tc.want)
			}
			chip.SetLeadOff(0)
			if err := d.Read(&f); err != nil || f.LeadOff != 0 {
				t.Fatalf("after reattach LeadOff=%#x err=%v", f.LeadOff, err)
			}
		})
	}
}

// modePort forces a wrong SPI mode, as a miswired device tree would.
type modePort struct{ *ads1292sim.Chip }

func (p modePort) Connect(f physic.Frequency, _ spi.Mode, bits int) (spi.Conn, error) {
	return p.Chip.Connect(f, spi.Mode0, bits)
}

func TestSimFaults(t *testing.T) {
	defer ads1292.SetSleep(func(time.Duration) {})()
	t.Run("absent chip", func(t *testing.T) {
		chip := ads1292sim.New(nil)
		chip.SetFault(ads1292sim.FaultAbsent, true)
		_, err := ads1292.New(chip, &ads1292.Opts{DRDY: chip.DRDY()})
		var ide *buserr.IDError
		if !errors.As(err, &ide) || ide.Got != 0xFF {
			t.Fatalf("New = %v, want IDError with 0xff (MISO floating)", err)
		}
	})
	t.Run("wrong SPI mode", func(t *testing.T) {
		chip := ads1292sim.New(nil)
		if _, err := ads1292.New(modePort{chip}, &ads1292.Opts{DRDY: chip.DRDY()}); !errors.Is(err, buserr.ErrWrongID) {
			t.Fatalf("New = %v, want ErrWrongID", err)
		}
	})
	t.Run("wrong ID", func(t *testing.T) {
		chip := ads1292sim.New(nil)
		chip.SetFault(ads1292sim.FaultWrongID, true)
		if _, err := ads1292.New(chip, &ads1292.Opts{DRDY: chip.DRDY()}); !errors.Is(err, buserr.ErrWrongID) {
			t.Fatalf("New = %v, want ErrWrongID", err)
		}
		if _, err := ads1292.New(chip, &ads1292.Opts{DRDY: chip.DRDY(), AllowADS1292: true}); err != nil {
			t.Fatalf("New with AllowADS1292 = %v", err)
		}
	})
	t.Run("DRDY timeout", func(t *testing.T) {
		chip, d := newSim(t, ads1292.Opts{}, nil)
		chip.SetFault(ads1292sim.FaultNoDRDY, true)
		var f ads1292.Frame
		if err := d.Read(&f); !errors.Is(err, buserr.ErrTimeout) {
			t.Fatalf("Read = %v, want ErrTimeout", err)
		}
	})
	t.Run("stuck", func(t *testing.T) {
		chip, d := newSim(t, ads1292.Opts{}, sine(500))
		var f ads1292.Frame
		for i := 0; i < 5; i++ {
			if err := d.Read(&f); err != nil {
				t.Fatal(err)
			}
		}
		if d.Repeats() != 0 {
			t.Fatalf("Repeats on a sine = %d", d.Repeats())
		}
		chip.SetFault(ads1292sim.FaultStuck, true)
		for i := 0; i < 6; i++ {
			if err := d.Read(&f); err != nil {
				t.Fatal(err)
			}
		}
		if d.Repeats() != 6 {
			t.Fatalf("Repeats when stuck = %d, want 6", d.Repeats())
		}
	})
	t.Run("no DRDY pin", func(t *testing.T) {
		chip := ads1292sim.New(nil)
		d, err := ads1292.New(chip, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Read(&ads1292.Frame{}); !errors.Is(err, buserr.ErrBadConfig) {
			t.Fatalf("Read = %v, want ErrBadConfig", err)
		}
	})
	t.Run("bad options", func(t *testing.T) {
		chip := ads1292sim.New(nil)
		for _, o := range []ads1292.Opts{{Rate: 300}, {Gain: [2]int{5, 6}}, {Respiration: true, AllowADS1292: true}} {
			if _, err := ads1292.New(chip, &o); !errors.Is(err, buserr.ErrBadConfig) {
				t.Errorf("New(%+v) = %v, want ErrBadConfig", o, err)
			}
		}
	})
}

func TestLSB(t *testing.T) {
	_, d := newSim(t, ads1292.Opts{VREF4V: true, Gain: [2]int{1, 12}}, nil)
	for ch, g := range []float64{1, 12} {
		want := 2 * 4.033 / g / (1 << 24) * 1000
		if d.LSB(ch) != want {
			t.Errorf("LSB(%d) = %v, want %v", ch, d.LSB(ch), want)
		}
	}
}

// BenchmarkRead reads 1,000 frames per iteration from the simulator.
func BenchmarkRead(b *testing.B) {
	_, d := newSim(b, ads1292.Opts{}, sine(500))
	var f ads1292.Frame
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i < 1000; i++ {
			if err := d.Read(&f); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/1000samples")
}

func TestReadDoesNotAllocate(t *testing.T) {
	_, d := newSim(t, ads1292.Opts{}, sine(500))
	var f ads1292.Frame
	if n := testing.AllocsPerRun(200, func() {
		if err := d.Read(&f); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("Read allocates %v times per frame, want 0", n)
	}
}
