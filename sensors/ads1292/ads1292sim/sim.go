package ads1292sim

import (
	"fmt"
	"math"
	"sync"
	"time"

	"medagent/hal/buserr"
	"medagent/sensors/ads1292"
	"medagent/sensors/simpin"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// Waveform fills ch1 and ch2 (same length) with the next samples in mV at
// the electrodes.
type Waveform func(ch1, ch2 []float64)

// Fault is an injectable failure.
type Fault int

// Faults.
const (
	FaultAbsent  Fault = iota // no chip: every byte read is 0xFF
	FaultWrongID              // ID reads 0x53 (ADS1292, no respiration)
	FaultNoDRDY               // conversions stop: DRDY never falls
	FaultStuck                // channel codes stop changing
	numFaults
)

// Opts configures a Chip.
type Opts struct {
	Clock func() time.Duration // nil: manual clock moved by Advance
	Wave  Waveform             // nil: channel 1 at 0 mV, channel 2 at 1 mV
	// LeadOff, when set, is asked at every conversion which electrodes
	// are off (LeadOffIN1P... bits), e.g. from a simulated patient's
	// lead-off fault; it is ORed with SetLeadOff.
	LeadOff func() uint8
}

// Chip is one simulated ADS1292R; it is its own SPI port.
type Chip struct {
	mu        sync.Mutex
	clock     func() time.Duration
	manual    time.Duration
	wave      Waveform
	loffFn    func() uint8
	regs      [ads1292.NumRegs]uint8
	loff      uint8 // electrodes off, LOFF_STAT[4:0] bits
	running   bool
	rdatac    bool
	standby   bool
	t0        time.Duration
	produced  int64 // frames converted since t0
	readUpTo  int64 // frames produced when the last frame was read
	frame     [ads1292.FrameBytes]byte
	lastCodes [2]int32
	connected bool
	mode      spi.Mode
	faults    [numFaults]bool
	ch        [2][1]float64
	txbuf     [64]byte
	pin       *simpin.Pin
	sleep     func(time.Duration) // real-time waits of the data-ready line; nil: time.Sleep
}

// New returns a chip in its power-on state.
func New(o *Opts) *Chip {
	if o == nil {
		o = &Opts{}
	}
	c := &Chip{clock: o.Clock, wave: o.Wave, loffFn: o.LeadOff}
	if c.wave == nil {
		c.wave = func(a, b []float64) {
			for i := range a {
				a[i], b[i] = 0, 1
			}
		}
	}
	c.pin = simpin.New("ads1292sim-DRDY", (*drdyLine)(c))
	c.reset()
	return c
}

func (c *Chip) reset() {
	c.regs = [ads1292.NumRegs]uint8{ads1292.IDADS1292R, 0x02, 0x80, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x0C}
	c.running, c.rdatac, c.standby = false, true, false // RDATAC is the power-up mode
	c.produced, c.readUpTo = 0, 0
}

func (c *Chip) String() string { return "ads1292sim" }

// DRDY is the chip's data-ready output for Opts.DRDY.
func (c *Chip) DRDY() gpio.PinIO { return c.pin }

// SetFault switches a fault on or off.
func (c *Chip) SetFault(f Fault, on bool) {
	c.mu.Lock()
	c.catchUp()
	c.faults[f] = on
	c.mu.Unlock()
}

// SetLeadOff marks electrodes as disconnected (LeadOffIN1P... bits).
func (c *Chip) SetLeadOff(mask uint8) {
	c.mu.Lock()
	c.loff = mask & 0x1F
	c.mu.Unlock()
}

// Advance moves the manual clock forward.
func (c *Chip) Advance(d time.Duration) {
	c.mu.Lock()
	c.manual += d
	c.mu.Unlock()
}

// Now is the chip's clock, for the driver's Opts.Clock.
func (c *Chip) Now() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now()
}

// Reg returns a register value.
func (c *Chip) Reg(r uint8) uint8 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.regs[r]
}

func (c *Chip) now() time.Duration {
	if c.clock != nil {
		return c.clock()
	}
	return c.manual
}

func (c *Chip) period() time.Duration {
	return time.Second / time.Duration(ads1292.Rates[min(c.regs[ads1292.RegConfig1]&7, 6)])
}

// converting reports whether frames are being produced.
func (c *Chip) converting() bool { return c.running && !c.standby && !c.faults[FaultNoDRDY] }

// catchUp converts every frame due by now; only the newest is kept in the
// output register, as on the chip.
func (c *Chip) catchUp() {
	if !c.converting() {
		return
	}
	due := int64((c.now() - c.t0) / c.period())
	for ; c.produced < due; c.produced++ {
		c.convert()
	}
}

func (c *Chip) lsb(ch int) float64 {
	vref := ads1292.VREF242
	if c.regs[ads1292.RegConfig2]&ads1292.Cfg2VREF4V != 0 {
		vref = ads1292.VREF4V
	}
	g := ads1292.Gains[min(c.regs[ads1292.RegCH1SET+ch]>>4&7, 6)]
	return 2 * vref / float64(g) / (1 << 24) * 1000
}

func (c *Chip) convert() {
	c.wave(c.ch[0][:], c.ch[1][:])
	codes := c.lastCodes
	if !c.faults[FaultStuck] {
		for i := 0; i < 2; i++ {
			v := math.Round(c.ch[i][0] / c.lsb(i))
			codes[i] = int32(math.Max(-(1 << 23), math.Min(1<<23-1, v)))
		}
	}
	c.lastCodes = codes
	stat := uint8(0)
	if c.regs[ads1292.RegConfig2]&ads1292.Cfg2PDBLOFF != 0 {
		off := c.loff
		if c.loffFn != nil {
			off |= c.loffFn() & 0x1F
		}
		stat = off & (c.regs[ads1292.RegLOFFSens]&0x0F | ads1292.LeadOffRLD)
	}
	c.regs[ads1292.RegLOFFStat] = c.regs[ads1292.RegLOFFStat]&0x40 | stat
	gpioBits := uint32(c.regs[ads1292.RegGPIO] & 3)
	st := uint32(0xC)<<20 | uint32(stat)<<15 | gpioBits<<13
	f := &c.frame
	f[0], f[1], f[2] = byte(st>>16), byte(st>>8), byte(st)
	for i := 0; i < 2; i++ {
		u := uint32(codes[i])
		f[3+3*i], f[4+3*i], f[5+3*i] = byte(u>>16), byte(u>>8), byte(u)
	}
}

// Connect implements spi.Port. The ADS1292R needs mode 1 and at most
// 20 MHz; another mode is accepted (the bus cannot tell) but corrupts
// every byte read.
func (c *Chip) Connect(f physic.Frequency, mode spi.Mode, bits int) (spi.Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if bits != 8 {
		return nil, fmt.Errorf("ads1292sim: %d bits per word: %w", bits, buserr.ErrBadConfig)
	}
	if f > 20*physic.MegaHertz {
		return nil, fmt.Errorf("ads1292sim: SCLK %s above 20MHz: %w", f, buserr.ErrBadConfig)
	}
	c.connected, c.mode = true, mode
	return (*simConn)(c), nil
}

// LimitSpeed implements spi.PortCloser.
func (c *Chip) LimitSpeed(physic.Frequency) error { return nil }

// Close implements spi.PortCloser.
func (c *Chip) Close() error { return nil }

type simConn Chip

func (s *simConn) String() string { return "ads1292sim" }

func (s *simConn) Duplex() conn.Duplex { return conn.Full }

// TxPackets is not used by the driver.
func (s *simConn) TxPackets([]spi.Packet) error {
	return fmt.Errorf("ads1292sim: TxPackets not supported")
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
