package max3010x

import (
	"fmt"
	"time"

	"medagent/hal/buserr"

	"medagent/sensors/internal/pinwait"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
)

// doSleep is the seam tests replace so reset and temperature waits do not
// take real time.
var doSleep = time.Sleep

// Opts configures the part. Zero fields take the defaults in brackets.
type Opts struct {
	Mode       Mode // [SpO2]
	SampleRate int  // samples/s before averaging, one of SampleRates [100]
	PulseWidth int  // µs, one of 69, 118, 215, 411 [411 → 18 bit]
	ADCRange   int  // nA full scale, one of ADCRanges [4096]
	// Averaging is SMP_AVE: 1, 2, 4, 8, 16 or 32 samples per FIFO entry [1].
	Averaging int
	// LEDCurrent holds LED1 (red), LED2 (IR), LED3 (green) pulse amplitudes
	// in 0.2 mA steps (0x24 = 7.2 mA). Zero entries take 0x24 for red and
	// IR and leave green off.
	LEDCurrent [3]uint8
	// Slots are the four multi-LED time slots (MultiLED mode only).
	Slots [4]LED
	// Rollover lets new samples overwrite the oldest when the FIFO is full
	// (FIFO_ROLLOVER_EN); without it new samples are dropped. Either way
	// the loss is counted in OVF_COUNTER and reported by ReadFIFO.
	Rollover bool
	// AlmostFull is the number of unread samples (17..32) that raises the
	// A_FULL interrupt [17].
	AlmostFull int
	// IntPin, when set, is the chip's INT line (active low); A_FULL is
	// enabled and WaitInterrupt waits for its falling edge.
	IntPin gpio.PinIn
}

// Sample is one FIFO entry in raw 18-bit-scale ADC counts. Channels the
// mode does not sample are zero.
type Sample struct {
	Red, IR, Green uint32
}

// Dev is a handle to one MAX30101/MAX30102.
type Dev struct {
	d     i2c.Dev
	pin   gpio.PinIn
	mode  uint8
	slots [4]LED
	nch   int
	rate  float64
	w     [5]byte
	r     [3]byte
	fifo  [FIFODepth * 4 * 3]byte
	last  Sample
	rep   int
	have  bool
}

// New probes the part ID, resets the part and configures it.
func New(bus i2c.Bus, addr uint16, o *Opts) (*Dev, error) {
	if o == nil {
		o = &Opts{}
	}
	cfg, err := resolve(o)
	if err != nil {
		return nil, err
	}
	d := &Dev{d: i2c.Dev{Bus: bus, Addr: addr}, pin: o.IntPin}
	id, err := d.readReg(RegPartID)
	if err != nil {
		return nil, fmt.Errorf("max3010x: read part ID: %w", err)
	}
	if id != PartID {
		return nil, fmt.Errorf("max3010x: probe: %w", &buserr.IDError{Chip: "max3010x", Got: uint32(id), Want: PartID})
	}
	if err := d.Reset(); err != nil {
		return nil, err
	}
	d.mode, d.slots, d.nch, d.rate = cfg.mode, cfg.slots, cfg.nch, cfg.rate
	en1 := uint8(0)
	if o.IntPin != nil {
		en1 = IntAFull
	}
	writes := []struct{ reg, val uint8 }{
		{RegFIFOConfig, cfg.fifo},
		{RegSpO2Config, cfg.spo2},
		{RegLED1PA, cfg.led[0]},
		{RegLED2PA, cfg.led[1]},
	}
	if cfg.led[2] != 0 {
		writes = append(writes, struct{ reg, val uint8 }{RegLED3PA, cfg.led[2]})
	}
	if Mode(cfg.mode) == MultiLED {
		writes = append(writes,
			struct{ reg, val uint8 }{RegMultiLED1, uint8(cfg.slots[1])<<4 | uint8(cfg.slots[0])},
			struct{ reg, val uint8 }{RegMultiLED2, uint8(cfg.slots[3])<<4 | uint8(cfg.slots[2])})
	}
	writes = append(writes, struct{ reg, val uint8 }{RegIntEnable1, en1})
	for _, w := range writes {
		if err := d.writeReg(w.reg, w.val); err != nil {
			return nil, fmt.Errorf("max3010x: configure reg %#x: %w", w.reg, err)
		}
	}
	if err := d.ClearFIFO(); err != nil {
		return nil, err
	}
	if err := d.writeReg(RegModeConfig, cfg.mode); err != nil {
		return nil, fmt.Errorf("max3010x: write mode: %w", err)
	}
	if o.IntPin != nil {
		if err := o.IntPin.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			return nil, fmt.Errorf("max3010x: interrupt pin %s: %w", o.IntPin, err)
		}
	}
	return d, nil
}

func (d *Dev) String() string { return fmt.Sprintf("MAX3010x{%s}", &d.d) }

// Rate is the FIFO entry rate in samples per second (sample rate divided
// by averaging).
func (d *Dev) Rate() float64 { return d.rate }

// Reset performs a power-on reset (MODE_CONFIG.RESET) and waits for the
// bit to clear (bounded).
func (d *Dev) Reset() error {
	if err := d.writeReg(RegModeConfig, ModeReset); err != nil {
		return fmt.Errorf("max3010x: reset: %w", err)
	}
	for i := 0; i < 10; i++ {
		v, err := d.readReg(RegModeConfig)
		if err != nil {
			return fmt.Errorf("max3010x: reset: poll: %w", err)
		}
		if v&ModeReset == 0 {
			return nil
		}
		doSleep(time.Millisecond)
	}
	return fmt.Errorf("max3010x: reset did not complete: %w", buserr.ErrTimeout)
}

// ClearFIFO zeroes FIFO_WR_PTR, OVF_COUNTER and FIFO_RD_PTR.
func (d *Dev) ClearFIFO() error {
	d.w = [5]byte{RegFIFOWrPtr, 0, 0, 0}
	if err := d.d.Tx(d.w[:4], nil); err != nil {
		return fmt.Errorf("max3010x: clear FIFO: %w", err)
	}
	return nil
}

// ReadFIFO reads up to len(dst) unread samples. n is how many were stored
// in dst; lost is the chip's overflow count since the previous read (31
// means 31 or more). Samples beyond len(dst) stay in the chip FIFO.
func (d *Dev) ReadFIFO(dst []Sample) (n, lost int, err error) {
	d.w[0] = RegFIFOWrPtr
	if err := d.d.Tx(d.w[:1], d.r[:3]); err != nil {
		return 0, 0, fmt.Errorf("max3010x: read FIFO pointers: %w", err)
	}
	wr, ovf, rd := int(d.r[0]&31), int(d.r[1]&31), int(d.r[2]&31)
	avail := (wr - rd) & 31
	if avail == 0 && ovf > 0 {
		avail = FIFODepth
	}
	n = min(avail, len(dst))
	if n == 0 {
		return 0, ovf, nil
	}
	sz := 3 * d.nch
	buf := d.fifo[:n*sz]
	d.w[0] = RegFIFOData
	if err := d.d.Tx(d.w[:1], buf); err != nil {
		return 0, ovf, fmt.Errorf("max3010x: read FIFO data: %w", err)
	}
	for i := 0; i < n; i++ {
		var s Sample
		for c := 0; c < d.nch; c++ {
			b := buf[i*sz+3*c:]
			v := (uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])) & 0x3FFFF
			switch d.channel(c) {
			case Red:
				s.Red = v
			case IR:
				s.IR = v
			case Green:
				s.Green = v
			}
		}
		if d.have && s == d.last {
			d.rep++
		} else {
			d.rep = 0
		}
		d.last, d.have = s, true
		dst[i] = s
	}
	return n, ovf, nil
}

func (d *Dev) channel(c int) LED {
	switch Mode(d.mode & 7) {
	case HeartRate:
		return Red
	case SpO2:
		return LED(c + 1)
	}
	return d.slots[c]
}

// Repeats is how many consecutive samples were identical to the one before
// on every channel (0 after a change).
func (d *Dev) Repeats() int { return d.rep }

// Interrupts holds the two interrupt status registers. Reading them clears
// them on the chip.
type Interrupts struct {
	Status1, Status2 uint8
}

// ReadInterrupts reads (and so clears) both interrupt status registers.
func (d *Dev) ReadInterrupts(s *Interrupts) error {
	d.w[0] = RegIntStatus1
	if err := d.d.Tx(d.w[:1], d.r[:2]); err != nil {
		return fmt.Errorf("max3010x: read interrupt status: %w", err)
	}
	s.Status1, s.Status2 = d.r[0], d.r[1]
	return nil
}

// WaitInterrupt waits up to timeout for the INT line to fall, then reads
// and clears the status. It reports whether the line fell.
func (d *Dev) WaitInterrupt(timeout time.Duration, s *Interrupts) (bool, error) {
	if d.pin == nil {
		return false, fmt.Errorf("max3010x: no interrupt pin configured: %w", buserr.ErrBadConfig)
	}
	if !pinwait.Active(d.pin, gpio.Low, timeout) {
		return false, nil
	}
	return true, d.ReadInterrupts(s)
}

// DieTemperature starts a die temperature conversion, waits for it
// (29 ms typical, bounded polling) and reads integer + 1/16 °C fraction.
func (d *Dev) DieTemperature(t *physic.Temperature) error {
	if err := d.writeReg(RegDieTempCfg, 1); err != nil {
		return fmt.Errorf("max3010x: start die temperature: %w", err)
	}
	doSleep(30 * time.Millisecond)
	for i := 0; ; i++ {
		v, err := d.readReg(RegDieTempCfg)
		if err != nil {
			return fmt.Errorf("max3010x: poll die temperature: %w", err)
		}
		if v&1 == 0 {
			break
		}
		if i == 10 {
			return fmt.Errorf("max3010x: die temperature: %w", buserr.ErrTimeout)
		}
		doSleep(5 * time.Millisecond)
	}
	d.w[0] = RegDieTempInt
	if err := d.d.Tx(d.w[:1], d.r[:2]); err != nil {
		return fmt.Errorf("max3010x: read die temperature: %w", err)
	}
	*t = physic.ZeroCelsius + physic.Temperature(int8(d.r[0]))*physic.Celsius +
		physic.Temperature(d.r[1]&15)*physic.Celsius/16
	return nil
}

// Halt sets SHDN: the LEDs and ADC stop, registers are kept.
func (d *Dev) Halt() error {
	if err := d.writeReg(RegModeConfig, ModeShutdown|d.mode); err != nil {
		return fmt.Errorf("max3010x: halt: %w", err)
	}
	return nil
}

func (d *Dev) readReg(reg uint8) (uint8, error) {
	d.w[0] = reg
	if err := d.d.Tx(d.w[:1], d.r[:1]); err != nil {
		return 0, err
	}
	return d.r[0], nil
}

func (d *Dev) writeReg(reg, v uint8) error {
	d.w[0], d.w[1] = reg, v
	return d.d.Tx(d.w[:2], nil)
}
