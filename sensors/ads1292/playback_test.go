package ads1292_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"medagent/sensors/ads1292"
	"medagent/sensors/simpin"

	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi/spitest"
)

// lowLine is a DRDY line that always has data ready.
type lowLine struct{}

func (lowLine) Level() gpio.Level                      { return gpio.Low }
func (lowLine) WaitEdge(gpio.Edge, time.Duration) bool { return true }

func TestPlayback(t *testing.T) {
	defer ads1292.SetSleep(func(time.Duration) {})()
	z := func(n int) []byte { return make([]byte, n) }
	// Default configuration: 500 SPS, VREF 2.42 V + buffer on, LOFF reserved
	// bit, both channels gain 6 normal input, RESP reserved bits, GPIO inputs.
	cfg := []byte{0x02, 0xA0, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x0C}
	port := &spitest.Playback{Playback: conntest.Playback{DontPanic: true, Ops: []conntest.IO{
		{W: []byte{0x06}, R: z(1)},                           // RESET
		{W: []byte{0x11}, R: z(1)},                           // SDATAC
		{W: []byte{0x20, 0x00, 0x00}, R: []byte{0, 0, 0x73}}, // RREG ID
		{W: append([]byte{0x41, 0x0A}, cfg...), R: z(13)},    // WREG CONFIG1..GPIO
		{W: append([]byte{0x21, 0x0A}, z(11)...), R: append([]byte{0, 0}, cfg...)},
		{W: []byte{0x08}, R: z(1)}, // START
		{W: []byte{0x10}, R: z(1)}, // RDATAC
		// Status 1100 + IN2N off + GPIO 00; ch1 = +1, ch2 = -2.
		{W: z(9), R: []byte{0xC4, 0x00, 0x00, 0x00, 0x00, 0x01, 0xFF, 0xFF, 0xFE}},
		{W: []byte{0x11}, R: z(1)}, // Halt: SDATAC, STOP, STANDBY
		{W: []byte{0x0A}, R: z(1)},
		{W: []byte{0x04}, R: z(1)},
	}}}
	d, err := ads1292.New(port, &ads1292.Opts{DRDY: simpin.New("drdy", lowLine{})})
	if err != nil {
		t.Fatal(err)
	}
	var f ads1292.Frame
	if err := d.Read(&f); err != nil {
		t.Fatal(err)
	}
	if f.Raw != [2]int32{1, -2} || f.LeadOff != ads1292.LeadOffIN2N || f.Status != 0xC40000 {
		t.Fatalf("frame = %+v", f)
	}
	lsb := 2 * 2.42 / 6 / (1 << 24) * 1000
	if math.Abs(f.MV[1]-(-2*lsb)) > 1e-12 {
		t.Fatalf("ch2 = %v mV, want %v", f.MV[1], -2*lsb)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := port.Close(); err != nil {
		t.Fatal(err)
	}
}

// decodeCases are shared with FuzzDecode as seeds.
var decodeCases = []struct {
	name    string
	in      []byte
	want    ads1292.Frame
	wantErr error
}{
	{"zero", []byte{0xC0, 0, 0, 0, 0, 0, 0, 0, 0}, ads1292.Frame{Status: 0xC00000}, nil},
	{"full scale", []byte{0xC0, 0, 0, 0x7F, 0xFF, 0xFF, 0x80, 0x00, 0x00},
		ads1292.Frame{Status: 0xC00000, Raw: [2]int32{1<<23 - 1, -(1 << 23)}}, nil},
	{"all leads off + gpio", []byte{0xCF, 0xE0, 0x00, 0xFF, 0xFF, 0xFF, 0, 0, 2},
		ads1292.Frame{Status: 0xCFE000, LeadOff: 0x1F, GPIO: 3, Raw: [2]int32{-1, 2}}, nil},
	{"IN1P off", []byte{0xC0, 0x80, 0x00, 0, 0, 0, 0, 0, 0},
		ads1292.Frame{Status: 0xC08000, LeadOff: ads1292.LeadOffIN1P}, nil},
	{"RLD off", []byte{0xC8, 0x00, 0x00, 0, 0, 0, 0, 0, 0},
		ads1292.Frame{Status: 0xC80000, LeadOff: ads1292.LeadOffRLD}, nil},
	{"misaligned", []byte{0x00, 0xC0, 0, 0, 0, 0, 0, 0, 0}, ads1292.Frame{}, ads1292.ErrBadFrame},
	{"short", []byte{0xC0, 0, 0}, ads1292.Frame{}, ads1292.ErrBadFrame},
	{"absent chip", []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, ads1292.Frame{}, ads1292.ErrBadFrame},
}

func TestDecode(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			var f ads1292.Frame
			err := ads1292.Decode(tc.in, &f)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Decode err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && f != tc.want {
				t.Fatalf("Decode = %+v, want %+v", f, tc.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, tc := range decodeCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fr ads1292.Frame
		err := ads1292.Decode(b, &fr)
		if err != nil {
			return
		}
		if fr.Status>>20 != 0xC || fr.LeadOff > 0x1F || fr.GPIO > 3 {
			t.Fatalf("accepted frame %x decoded to %+v", b, fr)
		}
		for _, v := range fr.Raw {
			if v < -(1<<23) || v >= 1<<23 {
				t.Fatalf("code %d outside 24 bits", v)
			}
		}
	})
}

// scriptLine replays levels; every WaitEdge reports an edge, as a queued
// stale event would.
type scriptLine struct {
	levels []gpio.Level
	waits  int
}

func (s *scriptLine) Level() gpio.Level {
	l := s.levels[0]
	if len(s.levels) > 1 {
		s.levels = s.levels[1:]
	}
	return l
}

func (s *scriptLine) WaitEdge(gpio.Edge, time.Duration) bool { s.waits++; return true }

// TestStaleEdgeNoDuplicate: a leftover edge event while DRDY is already
// high again must not make Read clock out a frame before DRDY falls.
func TestStaleEdgeNoDuplicate(t *testing.T) {
	defer ads1292.SetSleep(func(time.Duration) {})()
	z := func(n int) []byte { return make([]byte, n) }
	cfg := []byte{0x02, 0xA0, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x0C}
	port := &spitest.Playback{Playback: conntest.Playback{DontPanic: true, Ops: []conntest.IO{
		{W: []byte{0x06}, R: z(1)},
		{W: []byte{0x11}, R: z(1)},
		{W: []byte{0x20, 0x00, 0x00}, R: []byte{0, 0, 0x73}},
		{W: append([]byte{0x41, 0x0A}, cfg...), R: z(13)},
		{W: append([]byte{0x21, 0x0A}, z(11)...), R: append([]byte{0, 0}, cfg...)},
		{W: []byte{0x08}, R: z(1)},
		{W: []byte{0x10}, R: z(1)},
		{W: z(9), R: []byte{0xC0, 0, 0, 0, 0, 5, 0, 0, 6}},
	}}}
	line := &scriptLine{levels: []gpio.Level{gpio.High, gpio.High, gpio.High, gpio.Low}}
	d, err := ads1292.New(port, &ads1292.Opts{DRDY: simpin.New("drdy", line)})
	if err != nil {
		t.Fatal(err)
	}
	var f ads1292.Frame
	if err := d.Read(&f); err != nil {
		t.Fatal(err)
	}
	if line.waits != 3 || f.Raw != [2]int32{5, 6} {
		t.Fatalf("waits=%d frame %+v; want 3 waits (2 stale edges skipped) then one frame", line.waits, f.Raw)
	}
	if err := port.Close(); err != nil {
		t.Fatal(err)
	}
}
