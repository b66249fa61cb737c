package ads1292

import (
	"fmt"
	"time"

	"medagent/hal/buserr"

	"medagent/sensors/internal/pinwait"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// doSleep is the seam tests replace so reset waits take no real time.
var doSleep = time.Sleep

// ErrBadFrame means a data frame's status word did not start with 1100:
// the frame is misaligned or the bus is corrupt.
var ErrBadFrame = fmt.Errorf("status word does not start with 1100: %w", buserr.ErrBadFrame)

// Opts configures the part. Zero fields take the defaults in brackets.
type Opts struct {
	Rate int    // samples per second, one of Rates [500]
	Gain [2]int // channel 1 and 2 PGA gain, one of Gains [6, 6]
	// VREF4V selects the 4.033 V reference (needs a 5 V analog supply).
	VREF4V bool
	// LeadOff enables DC lead-off detection on all four inputs with
	// comparator threshold 95 % and 6 nA current.
	LeadOff bool
	// RLD enables the right-leg drive amplifier, derived from channel 2.
	RLD bool
	// Respiration enables the ADS1292R respiration modulation/
	// demodulation on channel 1 (32 kHz, internal clock).
	Respiration bool
	// AllowADS1292 accepts the non-R part (ID 0x53) when Respiration is off.
	AllowADS1292 bool
	// DRDY is the data-ready line (active low). Required for Read.
	DRDY gpio.PinIn
	// Speed is the SPI clock [500 kHz].
	Speed physic.Frequency
	// Clock returns monotonic time for lost-frame estimation; nil uses
	// time since New.
	Clock func() time.Duration
}

// Frame is one decoded RDATAC frame.
type Frame struct {
	Status  uint32   // the 24-bit status word
	LeadOff uint8    // LOFF_STAT[4:0], see LeadOffIN1P...
	GPIO    uint8    // GPIO[1:0]
	Raw     [2]int32 // channel codes, sign-extended
	MV      [2]float64
	// Lost is the number of frames the chip produced since the previous
	// Read that were overwritten before being read.
	Lost int
}

// Dev is a handle to one ADS1292(R) in read-data-continuous mode.
type Dev struct {
	c      spi.Conn
	drdy   gpio.PinIn
	clock  func() time.Duration
	period time.Duration
	lsb    [2]float64 // mV per code
	regs   [NumRegs]uint8
	w      [FrameBytes]byte
	r      [FrameBytes]byte
	cmd    [16]byte
	resp   [16]byte
	last   time.Duration
	have   bool
	prev   [2]int32
	rep    int
}

// New connects in SPI mode 1, resets the part, checks the ID, writes and
// verifies the configuration, then starts conversions in RDATAC mode.
func New(port spi.Port, o *Opts) (*Dev, error) {
	if o == nil {
		o = &Opts{}
	}
	regs, lsb, rate, err := resolve(o)
	if err != nil {
		return nil, err
	}
	speed := o.Speed
	if speed == 0 {
		speed = 500 * physic.KiloHertz
	}
	c, err := port.Connect(speed, spi.Mode1, 8)
	if err != nil {
		return nil, fmt.Errorf("ads1292: connect SPI mode 1 at %s: %w", speed, err)
	}
	d := &Dev{c: c, drdy: o.DRDY, clock: o.Clock, lsb: lsb, regs: regs,
		period: time.Second / time.Duration(rate)}
	if d.clock == nil {
		t0 := time.Now()
		d.clock = func() time.Duration { return time.Since(t0) }
	}
	if err := d.command(OpReset); err != nil {
		return nil, fmt.Errorf("ads1292: reset: %w", err)
	}
	doSleep(time.Millisecond) // 18 tCLK after RESET; generous
	if err := d.command(OpSDATAC); err != nil {
		return nil, fmt.Errorf("ads1292: stop read-continuous: %w", err)
	}
	var id [1]uint8
	if err := d.readRegs(RegID, id[:]); err != nil {
		return nil, fmt.Errorf("ads1292: read ID: %w", err)
	}
	if id[0] != IDADS1292R && !(id[0] == IDADS1292 && o.AllowADS1292 && !o.Respiration) {
		return nil, fmt.Errorf("ads1292: probe: %w", &buserr.IDError{Chip: "ads1292r", Got: uint32(id[0]), Want: IDADS1292R})
	}
	if err := d.writeRegs(RegConfig1, regs[RegConfig1:]); err != nil {
		return nil, fmt.Errorf("ads1292: write config: %w", err)
	}
	var back [NumRegs - 1]uint8
	if err := d.readRegs(RegConfig1, back[:]); err != nil {
		return nil, fmt.Errorf("ads1292: read back config: %w", err)
	}
	for i, v := range back {
		reg := RegConfig1 + i
		mask := uint8(0xFF)
		switch reg {
		case RegLOFFStat:
			mask = 0x40 // only CLK_DIV is writable
		case RegGPIO:
			mask = 0x0C // GPIO data bits follow the pins
		}
		if v&mask != regs[reg]&mask {
			return nil, fmt.Errorf("ads1292: register %#x reads %#x after writing %#x: %w", reg, v, regs[reg], buserr.ErrBadConfig)
		}
	}
	if d.drdy != nil {
		if err := d.drdy.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			return nil, fmt.Errorf("ads1292: DRDY pin %s: %w", d.drdy, err)
		}
	}
	if err := d.command(OpStart); err != nil {
		return nil, fmt.Errorf("ads1292: start: %w", err)
	}
	if err := d.command(OpRDATAC); err != nil {
		return nil, fmt.Errorf("ads1292: read-continuous: %w", err)
	}
	return d, nil
}

func (d *Dev) String() string { return fmt.Sprintf("ADS1292R{%s}", d.c) }

// Period is the sample period.
func (d *Dev) Period() time.Duration { return d.period }

// LSB returns the millivolts per code of channel ch (0 or 1).
func (d *Dev) LSB(ch int) float64 { return d.lsb[ch] }

// Read waits for the next DRDY falling edge (up to four sample periods),
// clocks out one 72-bit frame and decodes it into f.
func (d *Dev) Read(f *Frame) error {
	if d.drdy == nil {
		return fmt.Errorf("ads1292: read: no DRDY pin configured: %w", buserr.ErrBadConfig)
	}
	if !pinwait.Active(d.drdy, gpio.Low, 4*d.period) {
		return fmt.Errorf("ads1292: read: no DRDY within %s: %w", 4*d.period, buserr.ErrTimeout)
	}
	now := d.clock()
	d.w = [FrameBytes]byte{}
	if err := d.c.Tx(d.w[:], d.r[:]); err != nil {
		return fmt.Errorf("ads1292: read frame: %w", err)
	}
	if err := Decode(d.r[:], f); err != nil {
		return fmt.Errorf("ads1292: read frame: %w", err)
	}
	f.MV[0] = float64(f.Raw[0]) * d.lsb[0]
	f.MV[1] = float64(f.Raw[1]) * d.lsb[1]
	f.Lost = 0
	if d.have {
		if n := int((now-d.last+d.period/2)/d.period) - 1; n > 0 {
			f.Lost = n
		}
		if f.Raw == d.prev {
			d.rep++
		} else {
			d.rep = 0
		}
	}
	d.last, d.have, d.prev = now, true, f.Raw
	return nil
}

// Repeats is how many consecutive frames had exactly the same codes on
// both channels as the one before.
func (d *Dev) Repeats() int { return d.rep }

// Decode parses one 9-byte frame into f's Status, LeadOff, GPIO and Raw.
func Decode(b []byte, f *Frame) error {
	if len(b) < FrameBytes {
		return fmt.Errorf("frame of %d bytes, want %d: %w", len(b), FrameBytes, ErrBadFrame)
	}
	st := uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
	if st>>20 != 0xC {
		return fmt.Errorf("status %#06x: %w", st, ErrBadFrame)
	}
	f.Status = st
	f.LeadOff = uint8(st >> 15 & 0x1F)
	f.GPIO = uint8(st >> 13 & 3)
	f.Raw[0] = int32(uint32(b[3])<<24|uint32(b[4])<<16|uint32(b[5])<<8) >> 8
	f.Raw[1] = int32(uint32(b[6])<<24|uint32(b[7])<<16|uint32(b[8])<<8) >> 8
	return nil
}

// Halt leaves RDATAC, stops conversions and powers down both channels'
// conversions by entering standby.
func (d *Dev) Halt() error {
	for _, op := range [...]uint8{OpSDATAC, OpStop, OpStandby} {
		if err := d.command(op); err != nil {
			return fmt.Errorf("ads1292: halt: opcode %#x: %w", op, err)
		}
	}
	return nil
}

func (d *Dev) command(op uint8) error {
	d.cmd[0] = op
	return d.c.Tx(d.cmd[:1], d.resp[:1])
}

func (d *Dev) readRegs(start int, dst []uint8) error {
	n := 2 + len(dst)
	d.cmd = [16]byte{OpRREG | uint8(start), uint8(len(dst) - 1)}
	if err := d.c.Tx(d.cmd[:n], d.resp[:n]); err != nil {
		return err
	}
	copy(dst, d.resp[2:n])
	return nil
}

func (d *Dev) writeRegs(start int, src []uint8) error {
	n := 2 + len(src)
	d.cmd[0], d.cmd[1] = OpWREG|uint8(start), uint8(len(src)-1)
	copy(d.cmd[2:], src)
	return d.c.Tx(d.cmd[:n], d.resp[:n])
}
