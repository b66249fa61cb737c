package max3010xsim

import (
	"fmt"
	"math"
	"sync"
	"time"

	"medagent/hal/buserr"
	mx "medagent/sensors/max3010x"
	"medagent/sensors/simpin"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// Waveform fills red and ir (same length) with the next samples in counts.
type Waveform func(red, ir []float64)

// Constant returns a Waveform of fixed red and IR counts.
func Constant(red, ir float64) Waveform {
	return func(r, i []float64) {
		for k := range r {
			r[k], i[k] = red, ir
		}
	}
}

// Fault is an injectable failure.
type Fault int

// Faults.
const (
	FaultNACK    Fault = iota // every transaction is not acknowledged
	FaultTimeout              // every transaction times out
	FaultWrongID              // part ID reads 0x11
	FaultStuck                // every new FIFO entry repeats the previous one
	numFaults
)

// Opts configures a Chip.
type Opts struct {
	Addr  uint16               // [0x57]
	Clock func() time.Duration // nil: manual clock moved by Advance
	Wave  Waveform             // nil: constant 100000 red, 120000 IR
	// DieTemp is the die temperature in °C [30.25].
	DieTemp float64
}

// Chip is one simulated MAX3010x.
type Chip struct {
	mu     sync.Mutex
	addr   uint16
	clock  func() time.Duration
	manual time.Duration
	wave   Waveform
	die    float64
	regs   [256]uint8
	fifo   [mx.FIFODepth][4]uint32
	byteAt int // bytes of the entry at RD_PTR already read
	unread int // entries in the FIFO (the pointers alone cannot tell 0 from 32)
	t0     time.Duration
	done   int64 // FIFO entries produced since t0
	tempAt time.Duration
	faults [numFaults]bool
	red    [32]float64
	ir     [32]float64
	pin    *simpin.Pin
	sleep  func(time.Duration) // real-time waits of the data-ready line; nil: time.Sleep
}

// New returns a chip in its power-on state.
func New(o *Opts) *Chip {
	if o == nil {
		o = &Opts{}
	}
	c := &Chip{addr: o.Addr, clock: o.Clock, wave: o.Wave, die: o.DieTemp}
	if c.addr == 0 {
		c.addr = mx.Addr
	}
	if c.wave == nil {
		c.wave = Constant(100000, 120000)
	}
	if c.die == 0 {
		c.die = 30.25
	}
	c.pin = simpin.New("max3010xsim-INT", (*intLine)(c))
	c.reset()
	c.regs[mx.RegIntStatus1] = mx.IntPowerReady
	return c
}

func (c *Chip) reset() {
	c.regs = [256]uint8{}
	c.regs[mx.RegPartID] = mx.PartID
	c.regs[mx.RegRevisionID] = 0x03
	c.fifo = [mx.FIFODepth][4]uint32{}
	c.byteAt = 0
	c.unread = 0
	c.restart()
}

// restart begins the sample clock at now (mode or rate changed).
func (c *Chip) restart() { c.t0, c.done = c.now(), 0 }

func (c *Chip) String() string { return fmt.Sprintf("max3010xsim@%#x", c.addr) }

// SetSpeed implements i2c.Bus; the part supports up to 400 kHz.
func (c *Chip) SetSpeed(f physic.Frequency) error {
	if f > 400*physic.KiloHertz {
		return fmt.Errorf("max3010xsim: speed %s above 400kHz: %w", f, buserr.ErrBadConfig)
	}
	return nil
}

// IntPin is the chip's INT output (active low) for Opts.IntPin.
func (c *Chip) IntPin() gpio.PinIO { return c.pin }

// SetFault switches a fault on or off.
func (c *Chip) SetFault(f Fault, on bool) {
	c.mu.Lock()
	c.faults[f] = on
	c.mu.Unlock()
}

// Advance moves the manual clock forward.
func (c *Chip) Advance(d time.Duration) {
	c.mu.Lock()
	c.manual += d
	c.mu.Unlock()
}

// Reg returns a register value after catching up with the clock.
func (c *Chip) Reg(r uint8) uint8 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.catchUp()
	return c.regs[r]
}

func (c *Chip) now() time.Duration {
	if c.clock != nil {
		return c.clock()
	}
	return c.manual
}

// sampling reports whether the ADC runs and the FIFO entry period.
func (c *Chip) sampling() (bool, time.Duration, int) {
	m := c.regs[mx.RegModeConfig]
	if m&mx.ModeShutdown != 0 {
		return false, 0, 0
	}
	switch mx.Mode(m & 7) {
	case mx.HeartRate, mx.SpO2, mx.MultiLED:
	default:
		return false, 0, 0
	}
	sr := mx.SampleRates[c.regs[mx.RegSpO2Config]>>2&7]
	avg := mx.Averages[c.regs[mx.RegFIFOConfig]>>5]
	return true, time.Duration(avg) * time.Second / time.Duration(sr), avg
}

func (c *Chip) resolutionMask() uint32 {
	bits := mx.PulseWidths[c.regs[mx.RegSpO2Config]&3].Bits
	return 0x3FFFF &^ (1<<(18-bits) - 1)
}

// catchUp produces every FIFO entry due by now.
func (c *Chip) catchUp() {
	if c.tempAt != 0 && c.now() >= c.tempAt {
		c.finishTemp()
	}
	on, period, avg := c.sampling()
	if !on {
		return
	}
	due := int64((c.now() - c.t0) / period)
	for ; c.done < due; c.done++ {
		c.push(avg)
	}
}

func (c *Chip) count() int { return c.unread }

func (c *Chip) push(avg int) {
	c.wave(c.red[:avg], c.ir[:avg])
	var r, i float64
	for k := 0; k < avg; k++ {
		r += c.red[k]
		i += c.ir[k]
	}
	mask := c.resolutionMask()
	q := func(v float64) uint32 {
		v = math.Round(v / float64(avg))
		return uint32(math.Max(0, math.Min(0x3FFFF, v))) & mask
	}
	e := [4]uint32{0, q(r), q(i), q(i)} // index by LED: 1 red, 2 IR, 3 green
	wr := c.regs[mx.RegFIFOWrPtr]
	if c.faults[FaultStuck] {
		e = c.fifo[(wr-1)&31]
	}
	if c.count() == mx.FIFODepth {
		if c.regs[mx.RegOvfCounter] < 31 {
			c.regs[mx.RegOvfCounter]++
		}
		if c.regs[mx.RegFIFOConfig]&mx.FIFORollover == 0 {
			return // new sample dropped
		}
		// Oldest sample overwritten: the read pointer moves with it.
		c.regs[mx.RegFIFORdPtr] = (c.regs[mx.RegFIFORdPtr] + 1) & 31
		c.byteAt = 0
		c.unread--
	}
	c.fifo[wr] = e
	c.regs[mx.RegFIFOWrPtr] = (wr + 1) & 31
	c.unread++
	c.regs[mx.RegIntStatus1] |= mx.IntPPGReady
	if c.count() >= 32-int(c.regs[mx.RegFIFOConfig]&15) {
		c.regs[mx.RegIntStatus1] |= mx.IntAFull
	}
}

// slots returns the LED in each active slot and the number of slots.
func (c *Chip) slots() (s [4]uint8, n int) {
	switch mx.Mode(c.regs[mx.RegModeConfig] & 7) {
	case mx.HeartRate:
		return [4]uint8{1}, 1
	case mx.SpO2:
		return [4]uint8{1, 2}, 2
	}
	m1, m2 := c.regs[mx.RegMultiLED1], c.regs[mx.RegMultiLED2]
	for _, v := range [4]uint8{m1 & 7, m1 >> 4 & 7, m2 & 7, m2 >> 4 & 7} {
		if v == 0 || v > 3 {
			break
		}
		s[n] = v
		n++
	}
	return s, n
}

func (c *Chip) finishTemp() {
	c.tempAt = 0
	c.regs[mx.RegDieTempCfg] &^= 1
	whole := math.Floor(c.die)
	c.regs[mx.RegDieTempInt] = uint8(int8(whole))
	c.regs[mx.RegDieTempFrc] = uint8((c.die - whole) * 16)
	c.regs[mx.RegIntStatus2] |= mx.Int2DieTemp
}

// SetSleep sets how the data-ready line waits in real time (an external
// Clock): nil is time.Sleep. A bench build passes a kernel sleep, so that
// the reading thread is woken by the kernel at its own priority, as a GPIO
// edge interrupt wakes it on a board.
func (c *Chip) SetSleep(f func(time.Duration)) {
	c.mu.Lock()
	c.sleep = f
	c.mu.Unlock()
}

func (c *Chip) sleepFor(d time.Duration) {
	c.mu.Lock()
	f := c.sleep
	c.mu.Unlock()
	if f == nil {
		f = time.Sleep
	}
	f(d)
}
