package simrig

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"medagent/hal"
	"medagent/hal/buserr"
	"medagent/hal/spec"
	"medagent/sensors"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// simBus holds the simulated devices behind the "sim" bus names.
type simBus struct {
	mu     sync.Mutex
	i2c    map[uint16]i2c.Bus
	spi    map[string]spi.PortCloser
	pins   map[string]gpio.PinIO
	serial string // the simulated oximeter's pty link; "" without one
	clock  func() time.Duration
}

func newSimBus() *simBus {
	return &simBus{i2c: map[uint16]i2c.Bus{}, spi: map[string]spi.PortCloser{}, pins: map[string]gpio.PinIO{}}
}

// Buses returns host's buses (absent ones: no hardware) with the names
// "sim" and "sim:NAME" routed to the rig: I²C transactions by address (an empty address NACKs), the
// ADS1292R on SPI port "sim", the chips' lines as "sim:NAME", the
// oximeter's pty as serial port "sim", all on the rig's clock.
func (r *Rig) Buses(host sensors.Buses) sensors.Buses {
	b := r.bus
	host = withoutHardware(host)
	return sensors.Buses{
		I2C: func(name string) (i2c.BusCloser, error) {
			if name != sensors.SimBus {
				return host.I2C(name)
			}
			return simI2C{b}, nil
		},
		SPI: func(name string, mode spi.Mode, maxSpeed physic.Frequency) (spi.PortCloser, error) {
			if !sensors.IsSim(name) {
				return host.SPI(name, mode, maxSpeed)
			}
			b.mu.Lock()
			p := b.spi[strings.TrimPrefix(strings.TrimPrefix(name, sensors.SimBus), ":")]
			b.mu.Unlock()
			if p == nil {
				return nil, fmt.Errorf("simrig: SPI port %q: no simulated device: %w", name, buserr.ErrNotFound)
			}
			return hal.LimitSPI(nopClose{p}, name, mode, maxSpeed)
		},
		Pin: func(name string, pull gpio.Pull, edge gpio.Edge) (gpio.PinIn, error) {
			rest, ok := strings.CutPrefix(name, sensors.SimBus+":")
			if !ok {
				return host.Pin(name, pull, edge)
			}
			b.mu.Lock()
			p := b.pins[rest]
			b.mu.Unlock()
			if p == nil {
				return nil, fmt.Errorf("simrig: GPIO %q: no simulated line of that name (have %s): %w", name, b.lines(), buserr.ErrNotFound)
			}
			return hal.InputPin(p, name, pull, edge)
		},
		Serial: func(path string, f spec.SerialFraming, readTimeout time.Duration) (io.ReadWriteCloser, error) {
			if path != sensors.SimBus {
				return host.Serial(path, f, readTimeout)
			}
			if b.serial == "" {
				return nil, fmt.Errorf("simrig: serial port %q: no simulated oximeter: %w", path, buserr.ErrNotFound)
			}
			// The real serial path: termios on the pty's slave side.
			return hal.OpenSerial(b.serial, f, readTimeout)
		},
		Clock: b.clock,
	}
}

func (b *simBus) lines() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var names []string
	for n := range b.pins {
		names = append(names, n)
	}
	slices.Sort(names)
	return fmt.Sprint(names)
}

// withoutHardware fills the buses host lacks with ones that say so.
func withoutHardware(host sensors.Buses) sensors.Buses {
	none := func(what, name string) error {
		return fmt.Errorf("simrig: %s %q: not a simulator's and no hardware buses here: %w", what, name, buserr.ErrNotFound)
	}
	if host.I2C == nil {
		host.I2C = func(name string) (i2c.BusCloser, error) { return nil, none("I2C bus", name) }
	}
	if host.SPI == nil {
		host.SPI = func(name string, _ spi.Mode, _ physic.Frequency) (spi.PortCloser, error) {
			return nil, none("SPI port", name)
		}
	}
	if host.Pin == nil {
		host.Pin = func(name string, _ gpio.Pull, _ gpio.Edge) (gpio.PinIn, error) { return nil, none("GPIO", name) }
	}
	if host.Serial == nil {
		host.Serial = func(name string, _ spec.SerialFraming, _ time.Duration) (io.ReadWriteCloser, error) {
			return nil, none("serial port", name)
		}
	}
	return host
}

// simI2C routes transactions by address; absent addresses NACK.
type simI2C struct{ b *simBus }

func (s simI2C) String() string { return "sim-i2c" }

func (s simI2C) Tx(addr uint16, w, r []byte) error {
	s.b.mu.Lock()
	chip := s.b.i2c[addr]
	s.b.mu.Unlock()
	if chip == nil {
		return fmt.Errorf("simrig: sim I2C addr %#x: %w", addr, buserr.ErrNACK)
	}
	return chip.Tx(addr, w, r)
}

func (s simI2C) SetSpeed(physic.Frequency) error { return nil }

func (s simI2C) Close() error { return nil }

// nopClose keeps a driver's Close from closing the rig's chip.
type nopClose struct{ spi.PortCloser }

func (nopClose) Close() error { return nil }
