package tmp117sim

import (
	"time"

	"medagent/sensors/simpin"
	"medagent/sensors/tmp117"

	"periph.io/x/conn/v3/gpio"
)

// AlertPin is the chip's ALERT output. With DR/Alert=1 it signals data
// ready: asserted (low, or high with POL=1) from the end of a conversion
// until the configuration or result register is read.
func (c *Chip) AlertPin() gpio.PinIO {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.alert == nil {
		c.alert = simpin.New("tmp117sim-ALERT", (*alertLine)(c))
	}
	return c.alert
}

type alertLine Chip

func (l *alertLine) asserted() bool {
	cfg := l.regs[tmp117.RegConfig]
	if cfg&tmp117.CfgDRAlert != 0 {
		return cfg&tmp117.CfgDataReady != 0
	}
	return cfg&(tmp117.CfgHighAlert|tmp117.CfgLowAlert) != 0
}

func (l *alertLine) level() gpio.Level {
	a := l.asserted()
	if l.regs[tmp117.RegConfig]&tmp117.CfgPol != 0 {
		return gpio.Level(a)
	}
	return gpio.Level(!a)
}

// Level reports the pin level.
func (l *alertLine) Level() gpio.Level {
	c := (*Chip)(l)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.catchUp()
	return l.level()
}

// WaitEdge jumps the manual clock to the next conversion (or polls in real
// time with an external clock).
func (l *alertLine) WaitEdge(edge gpio.Edge, timeout time.Duration) bool {
	c := (*Chip)(l)
	want := func() bool {
		lv := l.level()
		return (edge == gpio.FallingEdge && lv == gpio.Low) || (edge == gpio.RisingEdge && lv == gpio.High) || edge == gpio.BothEdges
	}
	if c.clock != nil {
		return simpin.Poll(timeout, func() (bool, time.Duration) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.catchUp()
			return want(), time.Millisecond
		})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.catchUp()
	if l.asserted() && want() {
		return true
	}
	if !c.running || c.next-c.manual > timeout {
		c.manual += timeout
		return false
	}
	c.manual = c.next
	c.catchUp()
	return want()
}
