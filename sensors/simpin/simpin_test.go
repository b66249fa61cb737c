package simpin

import (
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

type fakeSrc struct {
	lvl   gpio.Level
	waits int
	edge  gpio.Edge
	to    time.Duration
}

func (f *fakeSrc) Level() gpio.Level { return f.lvl }
func (f *fakeSrc) WaitEdge(e gpio.Edge, to time.Duration) bool {
	f.waits++
	f.edge, f.to = e, to
	return true
}

func TestPin(t *testing.T) {
	src := &fakeSrc{lvl: gpio.Low}
	p := New("drdy", src)
	if p.Read() != gpio.Low || p.Name() != "drdy" {
		t.Fatalf("Read/Name = %v %q", p.Read(), p.Name())
	}
	if p.WaitForEdge(time.Second) || src.waits != 0 {
		t.Fatal("WaitForEdge without In(edge) must not wait or report an edge")
	}
	if err := p.In(gpio.PullUp, gpio.FallingEdge); err != nil {
		t.Fatal(err)
	}
	if !p.WaitForEdge(-1) || src.edge != gpio.FallingEdge || src.to != time.Hour {
		t.Fatalf("WaitForEdge(-1): edge %v timeout %v", src.edge, src.to)
	}
	if p.Out(gpio.High) == nil {
		t.Fatal("Out on an input line must fail")
	}
}
