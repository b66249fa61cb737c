package tmp117sim

import (
	"fmt"
	"math"
	"sync"
	"time"

	"medagent/hal/buserr"
	"medagent/sensors/simpin"
	"medagent/sensors/tmp117"

	"periph.io/x/conn/v3/physic"
)

// Waveform fills dst with the next len(dst) samples (°C here).
type Waveform func(dst []float64)

// Constant returns a Waveform that always yields c.
func Constant(c float64) Waveform {
	return func(dst []float64) {
		for i := range dst {
			dst[i] = c
		}
	}
}

// Fault is an injectable failure.
type Fault int

// Faults.
const (
	FaultNACK    Fault = iota // every transaction is not acknowledged
	FaultTimeout              // every transaction times out
	FaultWrongID              // device ID register reads 0x0118
	FaultStuck                // the result register stops updating
	numFaults
)

// Opts configures a Chip.
type Opts struct {
	// Clock returns the simulated time; nil means a manual clock moved by
	// Advance.
	Clock func() time.Duration
	// Wave gives temperatures in °C; nil means a constant 36.6 °C.
	Wave Waveform
}

// eepromProgramTime is how long EEPROM_Busy stays set after a write
// (SNOSD82: 7 ms typical).
const eepromProgramTime = 7 * time.Millisecond

// Chip is one simulated TMP117 at one address.
type Chip struct {
	mu       sync.Mutex
	addr     uint16
	clock    func() time.Duration
	manual   time.Duration
	wave     Waveform
	sample   [1]float64
	regs     [16]uint16
	eeprom   [16]uint16
	ptr      uint8
	next     time.Duration // end of the conversion in progress
	running  bool
	busyTill time.Duration
	writes   int
	faults   [numFaults]bool
	alert    *simpin.Pin
}

// New returns a chip at addr in its factory power-on state.
func New(addr uint16, o *Opts) *Chip {
	if o == nil {
		o = &Opts{}
	}
	c := &Chip{addr: addr, clock: o.Clock, wave: o.Wave}
	if c.wave == nil {
		c.wave = Constant(36.6)
	}
	c.eeprom[tmp117.RegConfig] = tmp117.ResetConfig
	c.eeprom[tmp117.RegTHigh] = 0x6000
	c.eeprom[tmp117.RegTLow] = 0x8000
	c.PowerCycle()
	return c
}

// PowerCycle reloads the registers from EEPROM, as at power-on.
func (c *Chip) PowerCycle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.regs = c.eeprom
	c.regs[tmp117.RegTemp] = 0x8000 // reset value until the first conversion
	c.regs[tmp117.RegEEPROMUL] = 0
	c.regs[tmp117.RegDeviceID] = 0x1117
	c.ptr = 0
	c.start(c.now())
}

func (c *Chip) String() string { return fmt.Sprintf("tmp117sim@%#x", c.addr) }

// SetSpeed implements i2c.Bus; the TMP117 supports up to 400 kHz.
func (c *Chip) SetSpeed(f physic.Frequency) error {
	if f > 400*physic.KiloHertz {
		return fmt.Errorf("tmp117sim: speed %s above 400kHz: %w", f, buserr.ErrBadConfig)
	}
	return nil
}

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

// EEPROMWrites counts EEPROM programming cycles since New.
func (c *Chip) EEPROMWrites() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes
}

// Reg returns a register as the chip holds it (after catching up).
func (c *Chip) Reg(r uint8) uint16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.catchUp()
	return c.regs[r&15]
}

func (c *Chip) now() time.Duration {
	if c.clock != nil {
		return c.clock()
	}
	return c.manual
}

func (c *Chip) mode() tmp117.Mode {
	m := tmp117.Mode(c.regs[tmp117.RegConfig] >> 10 & 3)
	if m == 2 {
		return tmp117.Continuous
	}
	return m
}

func (c *Chip) conv() (uint8, tmp117.Averaging) {
	cfg := c.regs[tmp117.RegConfig]
	return uint8(cfg >> 7 & 7), tmp117.Averaging(cfg >> 5 & 3)
}

// start begins a conversion at t if the mode converts.
func (c *Chip) start(t time.Duration) {
	conv, avg := c.conv()
	switch c.mode() {
	case tmp117.Continuous:
		c.next, c.running = t+tmp117.CycleTime(conv, avg), true
	case tmp117.OneShot:
		c.next, c.running = t+tmp117.ConversionTime(avg), true
	default:
		c.running = false
	}
}

// catchUp completes every conversion that ended by now. Only the last
// result of a long gap is visible, so at most one waveform sample is drawn
// per call after skipping whole cycles.
func (c *Chip) catchUp() {
	now := c.now()
	if !c.running || now < c.next {
		return
	}
	if c.mode() == tmp117.OneShot {
		c.complete()
		c.regs[tmp117.RegConfig] = c.regs[tmp117.RegConfig]&^(3<<10) | uint16(tmp117.Shutdown)<<10
		c.running = false
		return
	}
	conv, avg := c.conv()
	period := tmp117.CycleTime(conv, avg)
	n := (now-c.next)/period + 1
	c.next += n * period
	c.complete()
}

func (c *Chip) complete() {
	c.wave(c.sample[:])
	c.regs[tmp117.RegConfig] |= tmp117.CfgDataReady
	if c.faults[FaultStuck] {
		return
	}
	raw := math.Round(c.sample[0] / 0.0078125)
	raw += float64(int16(c.regs[tmp117.RegOffset]))
	raw = math.Max(-32768, math.Min(32767, raw))
	c.regs[tmp117.RegTemp] = uint16(int16(raw))
}

// Tx implements i2c.Bus: w[0] sets the register pointer; two more bytes
// write the register MSB first; reads return the pointed register MSB first.
func (c *Chip) Tx(addr uint16, w, r []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if addr != c.addr || c.faults[FaultNACK] {
		return fmt.Errorf("tmp117sim: addr %#x: %w", addr, buserr.ErrNACK)
	}
	if c.faults[FaultTimeout] {
		return fmt.Errorf("tmp117sim: addr %#x: %w", addr, buserr.ErrTimeout)
	}
	c.catchUp()
	if len(w) > 0 {
		if w[0] > 0x0F {
			return fmt.Errorf("tmp117sim: pointer %#x: %w", w[0], buserr.ErrNACK)
		}
		c.ptr = w[0]
	}
	switch len(w) {
	case 0, 1:
	case 3:
		c.write(c.ptr, uint16(w[1])<<8|uint16(w[2]))
	default:
		return fmt.Errorf("tmp117sim: write of %d bytes: %w", len(w), buserr.ErrNACK)
	}
	for i := range r {
		v := c.read(c.ptr)
		if i%2 == 0 {
			r[i] = byte(v >> 8)
		} else {
			r[i] = byte(v)
		}
	}
	if len(r) > 0 && (c.ptr == tmp117.RegTemp || c.ptr == tmp117.RegConfig) {
		c.regs[tmp117.RegConfig] &^= tmp117.CfgDataReady
		if c.regs[tmp117.RegConfig]&tmp117.CfgTnA == 0 && c.ptr == tmp117.RegConfig {
			c.regs[tmp117.RegConfig] &^= tmp117.CfgHighAlert | tmp117.CfgLowAlert
		}
	}
	return nil
}

func (c *Chip) read(reg uint8) uint16 {
	v := c.regs[reg]
	switch reg {
	case tmp117.RegDeviceID:
		if c.faults[FaultWrongID] {
			return 0x1118
		}
	case tmp117.RegEEPROMUL:
		if c.now() < c.busyTill {
			v |= tmp117.ULBusy
		}
	case tmp117.RegConfig:
		if c.now() < c.busyTill {
			v |= tmp117.CfgEEPROMBusy
		}
	}
	return v
}

func (c *Chip) write(reg uint8, v uint16) {
	unlocked := c.regs[tmp117.RegEEPROMUL]&tmp117.ULUnlock != 0
	switch reg {
	case tmp117.RegTemp, tmp117.RegDeviceID:
		return // read-only
	case tmp117.RegEEPROMUL:
		c.regs[reg] = v & tmp117.ULUnlock
		return
	case tmp117.RegConfig:
		if v&tmp117.CfgSoftReset != 0 {
			c.mu.Unlock()
			c.PowerCycle()
			c.mu.Lock()
			return
		}
		v = v&0x0FFC | c.regs[reg]&0xF000
		c.regs[reg] = v
		c.start(c.now())
		v &= 0x0FFC
	default:
		c.regs[reg] = v
	}
	if unlocked {
		c.eeprom[reg] = v
		c.writes++
		c.busyTill = c.now() + eepromProgramTime
	}
}
