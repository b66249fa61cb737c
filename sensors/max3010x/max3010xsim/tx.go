package max3010xsim

import (
	"fmt"
	"time"

	"medagent/hal/buserr"
	mx "medagent/sensors/max3010x"

	"medagent/sensors/simpin"
	"periph.io/x/conn/v3/gpio"
)

// Tx implements i2c.Bus: w[0] is the register pointer, further bytes are
// written with auto-increment; reads auto-increment except FIFO_DATA,
// which pops FIFO bytes.
func (c *Chip) Tx(addr uint16, w, r []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if addr != c.addr || c.faults[FaultNACK] {
		return fmt.Errorf("max3010xsim: addr %#x: %w", addr, buserr.ErrNACK)
	}
	if c.faults[FaultTimeout] {
		return fmt.Errorf("max3010xsim: addr %#x: %w", addr, buserr.ErrTimeout)
	}
	c.catchUp()
	if len(w) == 0 {
		return fmt.Errorf("max3010xsim: transaction without register pointer: %w", buserr.ErrNACK)
	}
	ptr := w[0]
	for _, v := range w[1:] {
		c.write(ptr, v)
		ptr++
	}
	if len(r) == 0 {
		return nil
	}
	if ptr == mx.RegFIFOData {
		c.readFIFO(r)
		return nil
	}
	for i := range r {
		r[i] = c.read(ptr)
		ptr++
	}
	return nil
}

func (c *Chip) read(reg uint8) uint8 {
	v := c.regs[reg]
	switch reg {
	case mx.RegIntStatus1, mx.RegIntStatus2:
		c.regs[reg] = 0
	case mx.RegPartID:
		if c.faults[FaultWrongID] {
			return 0x11
		}
	}
	return v
}

func (c *Chip) readFIFO(r []byte) {
	slots, n := c.slots()
	size := 3 * n
	for i := range r {
		if c.count() == 0 || n == 0 {
			r[i] = 0
			continue
		}
		e := c.fifo[c.regs[mx.RegFIFORdPtr]]
		ch := c.byteAt / 3
		v := e[slots[ch]]
		r[i] = byte(v >> (8 * (2 - c.byteAt%3)))
		c.byteAt++
		if c.byteAt == size {
			c.byteAt = 0
			c.regs[mx.RegFIFORdPtr] = (c.regs[mx.RegFIFORdPtr] + 1) & 31
			c.regs[mx.RegOvfCounter] = 0
			c.unread--
		}
	}
}

func (c *Chip) write(reg, v uint8) {
	switch reg {
	case mx.RegIntStatus1, mx.RegIntStatus2, mx.RegFIFOData, mx.RegPartID, mx.RegRevisionID,
		mx.RegDieTempInt, mx.RegDieTempFrc:
		return // read-only
	case mx.RegFIFOWrPtr, mx.RegOvfCounter, mx.RegFIFORdPtr:
		c.regs[reg] = v & 31
		c.byteAt = 0
		c.unread = int(c.regs[mx.RegFIFOWrPtr]-c.regs[mx.RegFIFORdPtr]) & 31
	case mx.RegModeConfig:
		if v&mx.ModeReset != 0 {
			c.reset()
			return
		}
		c.regs[reg] = v & 0x87
		c.restart()
	case mx.RegSpO2Config, mx.RegFIFOConfig:
		c.regs[reg] = v
		c.restart()
	case mx.RegDieTempCfg:
		if v&1 != 0 {
			c.regs[reg] |= 1
			c.tempAt = c.now() + 29*time.Millisecond
		}
	default:
		c.regs[reg] = v
	}
}

// intLine adapts the chip to simpin.Source.
type intLine Chip

func (l *intLine) asserted() bool {
	c := (*Chip)(l)
	return c.regs[mx.RegIntStatus1]&(c.regs[mx.RegIntEnable1]|mx.IntPowerReady) != 0 ||
		c.regs[mx.RegIntStatus2]&c.regs[mx.RegIntEnable2] != 0
}

// Level is low while an enabled interrupt is pending.
func (l *intLine) Level() gpio.Level {
	c := (*Chip)(l)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.catchUp()
	return gpio.Level(!l.asserted())
}

// WaitEdge advances the manual clock entry by entry until the line falls
// or timeout passes; with an external clock it polls in real time.
func (l *intLine) WaitEdge(edge gpio.Edge, timeout time.Duration) bool {
	c := (*Chip)(l)
	if edge == gpio.RisingEdge {
		return false
	}
	if c.clock != nil {
		// External clock: sleep until the next FIFO entry is due.
		return simpin.PollSleep(timeout, c.sleepFor, func() (bool, time.Duration) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.catchUp()
			wait := time.Millisecond
			if on, period, _ := c.sampling(); on {
				wait = max(wait, c.t0+time.Duration(c.done+1)*period-c.now())
			}
			return l.asserted(), wait
		})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	end := c.manual + timeout
	for {
		c.catchUp()
		if l.asserted() {
			return true
		}
		on, period, _ := c.sampling()
		next := end
		if on {
			next = min(end, c.t0+time.Duration(c.done+1)*period)
		}
		if c.tempAt != 0 {
			next = min(next, c.tempAt)
		}
		if c.manual >= end {
			return false
		}
		c.manual = next
	}
}
