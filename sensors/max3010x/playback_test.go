package max3010x_test

import (
	"testing"
	"time"

	"medagent/sensors/max3010x"

	"github.com/google/go-cmp/cmp"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"
)

// newOps is the datasheet bring-up sequence for the default options: part
// ID, reset and poll, FIFO config (SMP_AVE=1, no rollover, A_FULL at 17
// unread = 15 empty), SpO2 config (4096 nA, 100 sps, 411 µs), LED1/LED2 at
// 7.2 mA, interrupts off, FIFO pointers cleared, SpO2 mode.
func newOps() []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: 0x57, W: []byte{0xFF}, R: []byte{0x15}},
		{Addr: 0x57, W: []byte{0x09, 0x40}},
		{Addr: 0x57, W: []byte{0x09}, R: []byte{0x00}},
		{Addr: 0x57, W: []byte{0x08, 0x0F}},
		{Addr: 0x57, W: []byte{0x0A, 0x27}},
		{Addr: 0x57, W: []byte{0x0C, 0x24}},
		{Addr: 0x57, W: []byte{0x0D, 0x24}},
		{Addr: 0x57, W: []byte{0x02, 0x00}},
		{Addr: 0x57, W: []byte{0x04, 0, 0, 0}},
		{Addr: 0x57, W: []byte{0x09, 0x03}},
	}
}

func TestPlayback(t *testing.T) {
	ops := append(newOps(),
		// WR=2, OVF=0, RD=0: two samples of red+IR, 3 bytes each.
		i2ctest.IO{Addr: 0x57, W: []byte{0x04}, R: []byte{0x02, 0x00, 0x00}},
		i2ctest.IO{Addr: 0x57, W: []byte{0x07}, R: []byte{
			0x01, 0x86, 0xA0, 0x01, 0xD4, 0xC0, // 100000, 120000
			0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x01, // bits 23:18 ignored -> 0x3FFFF, 1
		}},
		// Wrap-around: WR=1, RD=31 -> 2 unread; dst holds only 1.
		i2ctest.IO{Addr: 0x57, W: []byte{0x04}, R: []byte{0x01, 0x00, 0x1F}},
		i2ctest.IO{Addr: 0x57, W: []byte{0x07}, R: []byte{0, 0, 7, 0, 0, 8}},
		// Overflow: WR==RD with OVF=3 means the FIFO is full (32) and 3 were lost.
		i2ctest.IO{Addr: 0x57, W: []byte{0x04}, R: []byte{0x05, 0x03, 0x05}},
		i2ctest.IO{Addr: 0x57, W: []byte{0x07}, R: make([]byte, 4*6)},
		// Empty FIFO: no data read.
		i2ctest.IO{Addr: 0x57, W: []byte{0x04}, R: []byte{0x09, 0x00, 0x09}},
		i2ctest.IO{Addr: 0x57, W: []byte{0x09, 0x83}},
	)
	bus := &i2ctest.Playback{DontPanic: true, Ops: ops}
	d, err := max3010x.New(bus, 0x57, nil)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]max3010x.Sample, 4)
	for i, tc := range []struct {
		dst        int
		n, lost    int
		first, sec max3010x.Sample
	}{
		{4, 2, 0, max3010x.Sample{Red: 100000, IR: 120000}, max3010x.Sample{Red: 0x3FFFF, IR: 1}},
		{1, 1, 0, max3010x.Sample{Red: 7, IR: 8}, max3010x.Sample{}},
		{4, 4, 3, max3010x.Sample{}, max3010x.Sample{}},
		{4, 0, 0, max3010x.Sample{}, max3010x.Sample{}},
	} {
		clear(buf)
		n, lost, err := d.ReadFIFO(buf[:tc.dst])
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if n != tc.n || lost != tc.lost {
			t.Fatalf("read %d: n=%d lost=%d, want %d, %d", i, n, lost, tc.n, tc.lost)
		}
		if diff := cmp.Diff([]max3010x.Sample{tc.first, tc.sec}, buf[:2]); diff != "" {
			t.Fatalf("read %d samples (-want +got):\n%s", i, diff)
		}
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPlaybackMultiLEDAndAveraging(t *testing.T) {
	ops := []i2ctest.IO{
		{Addr: 0x57, W: []byte{0xFF}, R: []byte{0x15}},
		{Addr: 0x57, W: []byte{0x09, 0x40}},
		{Addr: 0x57, W: []byte{0x09}, R: []byte{0x40}}, // still resetting
		{Addr: 0x57, W: []byte{0x09}, R: []byte{0x00}},
		{Addr: 0x57, W: []byte{0x08, 0x50}}, // SMP_AVE=4 (010), rollover, A_FULL 32 unread = 0 empty
		{Addr: 0x57, W: []byte{0x0A, 0x4C}}, // 8192 nA, 400 sps, 69 µs
		{Addr: 0x57, W: []byte{0x0C, 0x10}},
		{Addr: 0x57, W: []byte{0x0D, 0x20}},
		{Addr: 0x57, W: []byte{0x0E, 0x30}},
		{Addr: 0x57, W: []byte{0x11, 0x21}}, // slot2 IR, slot1 red
		{Addr: 0x57, W: []byte{0x12, 0x03}}, // slot3 green
		{Addr: 0x57, W: []byte{0x02, 0x00}},
		{Addr: 0x57, W: []byte{0x04, 0, 0, 0}},
		{Addr: 0x57, W: []byte{0x09, 0x07}},
		{Addr: 0x57, W: []byte{0x04}, R: []byte{0x01, 0x00, 0x00}},
		{Addr: 0x57, W: []byte{0x07}, R: []byte{0, 0, 8, 0, 0, 16, 0, 0, 24}},
	}
	bus := &i2ctest.Playback{DontPanic: true, Ops: ops}
	defer max3010x.SetSleep(func(time.Duration) {})()
	d, err := max3010x.New(bus, 0x57, &max3010x.Opts{
		Mode: max3010x.MultiLED, SampleRate: 400, PulseWidth: 69, ADCRange: 8192,
		Averaging: 4, Rollover: true, AlmostFull: 32,
		LEDCurrent: [3]uint8{0x10, 0x20, 0x30},
		Slots:      [4]max3010x.LED{max3010x.Red, max3010x.IR, max3010x.Green},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d.Rate() != 100 {
		t.Fatalf("Rate = %v, want 400/4", d.Rate())
	}
	var s [1]max3010x.Sample
	if n, _, err := d.ReadFIFO(s[:]); err != nil || n != 1 {
		t.Fatalf("ReadFIFO = %d, %v", n, err)
	}
	if want := (max3010x.Sample{Red: 8, IR: 16, Green: 24}); s[0] != want {
		t.Fatalf("sample = %+v, want %+v", s[0], want)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPlaybackInterruptsAndDieTemp(t *testing.T) {
	ops := append(newOps(),
		i2ctest.IO{Addr: 0x57, W: []byte{0x00}, R: []byte{0xC0, 0x02}}, // A_FULL|PPG_RDY, DIE_TEMP_RDY
		i2ctest.IO{Addr: 0x57, W: []byte{0x21, 0x01}},                  // TEMP_EN
		i2ctest.IO{Addr: 0x57, W: []byte{0x21}, R: []byte{0x01}},       // still converting
		i2ctest.IO{Addr: 0x57, W: []byte{0x21}, R: []byte{0x00}},
		i2ctest.IO{Addr: 0x57, W: []byte{0x1F}, R: []byte{0xFE, 0x0C}}, // -2 + 12/16 = -1.25 °C
	)
	bus := &i2ctest.Playback{DontPanic: true, Ops: ops}
	defer max3010x.SetSleep(func(time.Duration) {})()
	d, err := max3010x.New(bus, 0x57, nil)
	if err != nil {
		t.Fatal(err)
	}
	var st max3010x.Interrupts
	if err := d.ReadInterrupts(&st); err != nil || st.Status1 != max3010x.IntAFull|max3010x.IntPPGReady || st.Status2 != max3010x.Int2DieTemp {
		t.Fatalf("interrupts %+v, %v", st, err)
	}
	var temp physic.Temperature
	if err := d.DieTemperature(&temp); err != nil {
		t.Fatal(err)
	}
	if want := physic.ZeroCelsius - 1250*physic.MilliKelvin; temp != want {
		t.Fatalf("die temperature %v, want %v", temp, want)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}
