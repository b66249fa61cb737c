package simpin

import (
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// Source is the chip side of the line.
type Source interface {
	// Level is the current pin level.
	Level() gpio.Level
	// WaitEdge blocks (in simulated or real time) until the next edge of
	// the given kind or until timeout, reporting whether an edge came.
	WaitEdge(edge gpio.Edge, timeout time.Duration) bool
}

// Pin implements gpio.PinIO on top of a Source. Out and PWM fail: the line
// is an input.
type Pin struct {
	name string
	src  Source
	mu   sync.Mutex
	edge gpio.Edge
}

// New returns a simulated input line.
func New(name string, src Source) *Pin { return &Pin{name: name, src: src} }

func (p *Pin) String() string { return p.name }

// Halt implements conn.Resource; it stops edge detection.
func (p *Pin) Halt() error { return p.In(gpio.Float, gpio.NoEdge) }

// Name implements pin.Pin.
func (p *Pin) Name() string { return p.name }

// Number implements pin.Pin; simulated lines have none.
func (p *Pin) Number() int { return -1 }

// Function implements pin.Pin.
func (p *Pin) Function() string { return "In" }

// In records the edge to wait for.
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	p.mu.Lock()
	p.edge = edge
	p.mu.Unlock()
	return nil
}

// Read returns the chip's output level.
func (p *Pin) Read() gpio.Level { return p.src.Level() }

// WaitForEdge waits for the edge configured with In. A negative timeout
// waits up to one simulated hour (the simulator cannot wait forever).
func (p *Pin) WaitForEdge(timeout time.Duration) bool {
	p.mu.Lock()
	e := p.edge
	p.mu.Unlock()
	if e == gpio.NoEdge {
		return false
	}
	if timeout < 0 {
		timeout = time.Hour
	}
	return p.src.WaitEdge(e, timeout)
}

// Pull implements gpio.PinIn; the chip output needs none.
func (p *Pin) Pull() gpio.Pull { return gpio.Float }

// DefaultPull implements gpio.PinIn.
func (p *Pin) DefaultPull() gpio.Pull { return gpio.Float }

// Out fails: the simulated line is an input only.
func (p *Pin) Out(gpio.Level) error { return fmt.Errorf("simpin: %s is an input", p.name) }

// PWM fails: the simulated line is an input only.
func (p *Pin) PWM(gpio.Duty, physic.Frequency) error {
	return fmt.Errorf("simpin: %s is an input", p.name)
}

var _ gpio.PinIO = (*Pin)(nil)

// Poll is a Source's WaitEdge on an external (real-time) clock: it calls
// check until it reports the edge or timeout passes, sleeping in between
// for as long as check says the next change is away (bounded by what is
// left of timeout), so a real-time demo does not spin.
func Poll(timeout time.Duration, check func() (edge bool, next time.Duration)) bool {
	return PollSleep(timeout, time.Sleep, check)
}

// PollSleep is Poll with its own sleep: a bench build passes a kernel
// sleep, so that a real-time reading thread is woken by the kernel at its
// priority, as a GPIO edge interrupt wakes it on a board.
func PollSleep(timeout time.Duration, sleep func(time.Duration), check func() (edge bool, next time.Duration)) bool {
	deadline := time.Now().Add(timeout)
	for {
		ok, next := check()
		if ok {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		sleep(min(next, left))
	}
}
