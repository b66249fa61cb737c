package ads1292sim

import (
	"fmt"
	"time"

	"medagent/hal/buserr"
	"medagent/sensors/ads1292"

	"medagent/sensors/simpin"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"
)

// Tx implements conn.Conn: w carries one opcode (with its arguments) or,
// in RDATAC mode, zeros that clock out the latest frame.
func (s *simConn) Tx(w, r []byte) error {
	c := (*Chip)(s)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(r) != 0 && len(r) != len(w) {
		return fmt.Errorf("ads1292sim: full duplex needs len(w)==len(r), got %d, %d", len(w), len(r))
	}
	c.catchUp()
	if len(w) > len(c.txbuf) {
		return fmt.Errorf("ads1292sim: transfer of %d bytes: %w", len(w), buserr.ErrBadConfig)
	}
	out := c.exec(w, c.txbuf[:len(w)])
	if c.faults[FaultAbsent] {
		for i := range out {
			out[i] = 0xFF
		}
	} else if c.mode != spi.Mode1 {
		// Sampling on the wrong edge shifts every byte by one bit.
		for i := range out {
			out[i] = out[i]>>1 | 0x80
		}
	}
	copy(r, out)
	return nil
}

// exec runs the command in w and returns what the chip drives on MISO.
func (c *Chip) exec(w, out []byte) []byte {
	clear(out)
	if len(w) == 0 {
		return out
	}
	op := w[0]
	if c.rdatac && op == 0 {
		// Data read: clock out the latest frame.
		copy(out, c.frame[:])
		c.readUpTo = c.produced
		return out
	}
	switch {
	case op == ads1292.OpReset:
		c.reset()
	case op == ads1292.OpStart:
		c.running, c.t0, c.produced, c.readUpTo = true, c.now(), 0, 0
	case op == ads1292.OpStop:
		c.running = false
	case op == ads1292.OpStandby:
		c.standby = true
	case op == ads1292.OpWakeup:
		c.standby = false
	case op == ads1292.OpRDATAC:
		c.rdatac = true
	case op == ads1292.OpSDATAC:
		c.rdatac = false
	case op == ads1292.OpRDATA:
		if len(w) > 1 {
			copy(out[1:], c.frame[:])
			c.readUpTo = c.produced
		}
	case op&0xE0 == ads1292.OpRREG && !c.rdatac && len(w) >= 2:
		start, n := int(op&0x1F), int(w[1]&0x1F)+1
		for i := 0; i < n && 2+i < len(out); i++ {
			if reg := start + i; reg < ads1292.NumRegs {
				out[2+i] = c.regs[reg]
				if reg == ads1292.RegID && c.faults[FaultWrongID] {
					out[2+i] = ads1292.IDADS1292
				}
			}
		}
	case op&0xE0 == ads1292.OpWREG && !c.rdatac && len(w) >= 2:
		start, n := int(op&0x1F), int(w[1]&0x1F)+1
		for i := 0; i < n && 2+i < len(w); i++ {
			c.writeReg(start+i, w[2+i])
		}
	}
	return out
}

func (c *Chip) writeReg(reg int, v uint8) {
	switch reg {
	case ads1292.RegID:
		return
	case ads1292.RegLOFFStat:
		c.regs[reg] = c.regs[reg]&0x1F | v&0x40
	case ads1292.RegGPIO:
		c.regs[reg] = v & 0x0F
	default:
		if reg < ads1292.NumRegs {
			c.regs[reg] = v
		}
	}
	if reg == ads1292.RegConfig1 && c.running {
		c.t0, c.produced, c.readUpTo = c.now(), 0, 0
	}
}

// drdyLine adapts the chip to simpin.Source: DRDY is low from the end of a
// conversion until its frame is read.
type drdyLine Chip

func (l *drdyLine) low() bool {
	c := (*Chip)(l)
	return c.converting() && c.produced > c.readUpTo
}

// Level reports the DRDY output.
func (l *drdyLine) Level() gpio.Level {
	c := (*Chip)(l)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.catchUp()
	return gpio.Level(!l.low())
}

// WaitEdge waits for the next falling edge of DRDY. With the manual clock
// it jumps to the next conversion; otherwise it polls in real time.
func (l *drdyLine) WaitEdge(edge gpio.Edge, timeout time.Duration) bool {
	c := (*Chip)(l)
	if edge == gpio.RisingEdge {
		return false
	}
	if c.clock != nil {
		// External clock: sleep until the next conversion is due.
		return simpin.PollSleep(timeout, c.sleepFor, func() (bool, time.Duration) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.catchUp()
			wait := 200 * time.Microsecond
			if c.converting() {
				wait = max(wait, c.t0+time.Duration(c.produced+1)*c.period()-c.now())
			}
			return l.low(), wait
		})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.catchUp()
	if l.low() {
		return true
	}
	if !c.converting() {
		c.manual += timeout
		return false
	}
	next := c.t0 + time.Duration(c.produced+1)*c.period()
	if next-c.manual > timeout {
		c.manual += timeout
		return false
	}
	c.manual = next
	c.catchUp()
	return true
}

var _ spi.PortCloser = (*Chip)(nil)
