package hal

import (
	"fmt"
	"sort"
	"sync"

	"medagent/hal/buserr"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// SimName is the bus name that selects simulators.
const SimName = "sim"

// Sim holds the simulated devices behind the "sim" bus name.
type Sim struct {
	mu   sync.Mutex
	i2c  map[uint16]i2c.Bus
	spi  map[string]spi.PortCloser
	pins map[string]gpio.PinIO
}

// NewSim returns an empty simulator registry.
func NewSim() *Sim {
	return &Sim{i2c: map[uint16]i2c.Bus{}, spi: map[string]spi.PortCloser{}, pins: map[string]gpio.PinIO{}}
}

// AddI2C puts a simulated chip (anything with the i2c.Bus Tx method, such
// as tmp117sim.Chip) on the simulated I²C bus at addr.
func (s *Sim) AddI2C(addr uint16, chip i2c.Bus) {
	s.mu.Lock()
	s.i2c[addr] = chip
	s.mu.Unlock()
}

// AddSPI registers a simulated SPI device under a port name ("" for the
// port opened as plain "sim").
func (s *Sim) AddSPI(name string, port spi.PortCloser) {
	s.mu.Lock()
	s.spi[name] = port
	s.mu.Unlock()
}

// AddPin registers a simulated line, opened as "sim:NAME".
func (s *Sim) AddPin(name string, p gpio.PinIO) {
	s.mu.Lock()
	s.pins[name] = p
	s.mu.Unlock()
}

// simI2C routes transactions by address; absent addresses NACK.
type simI2C struct{ s *Sim }

func (b simI2C) String() string { return "sim-i2c" }

func (b simI2C) Tx(addr uint16, w, r []byte) error {
	b.s.mu.Lock()
	chip := b.s.i2c[addr]
	b.s.mu.Unlock()
	if chip == nil {
		return fmt.Errorf("hal: sim I2C addr %#x: %w", addr, buserr.ErrNACK)
	}
	return chip.Tx(addr, w, r)
}

func (b simI2C) SetSpeed(physic.Frequency) error { return nil }

func (b simI2C) Close() error { return nil }

func (s *Sim) describe() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n := range s.pins {
		names = append(names, n)
	}
	sort.Strings(names)
	return fmt.Sprint(names)
}
