package agent

import (
	"context"
	"log/slog"
	"time"

	"medagent/edge/pipeline"
	"medagent/sensors"
)

// streamInfo describes one stream a source produces.
type streamInfo struct {
	name string
	pipeline.Stream
}

// source produces the samples of one sensor. Each call appends n samples
// to each block, in the order of streams().
type source interface {
	kind() pipeline.Kind
	streams() []streamInfo
	fill(blocks []sensors.Block, n int)
}

// frame carries one read of one sensor to the edge stage.
type frame struct {
	sensor string
	blocks []sensors.Block
}

// sampler is the sampling loop of one sensor: it reads what is due at the
// sensor's rate every tick and hands it to the edge stage without waiting.
type sampler struct {
	name   string
	rate   float64
	src    source
	out    chan<- frame
	tick   time.Duration
	log    *slog.Logger
	now    func() time.Time
	drops  int64 // frames dropped because the edge stage was behind
	origin time.Time
}

func (s *sampler) Run(ctx context.Context) error {
	t := time.NewTicker(s.tick)
	defer t.Stop()
	start := s.now()
	var produced int64
	streams := s.src.streams()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		due := int64(s.now().Sub(start).Seconds()*s.rate) - produced
		if due <= 0 {
			continue
		}
		at := start.Add(time.Duration(float64(produced) / s.rate * float64(time.Second)))
		blocks := make([]sensors.Block, len(streams))
		for i, st := range streams {
			blocks[i] = sensors.Block{
				Stream: s.name + "." + st.name, Unit: st.Unit, Rate: s.rate,
				Wall: at, Mono: at.Sub(s.origin),
				Samples: make([]float64, 0, due), Valid: make([]bool, 0, due),
			}
		}
		s.src.fill(blocks, int(due))
		produced += due
		select {
		case s.out <- frame{sensor: s.name, blocks: blocks}:
		default:
			// The edge stage is behind: drop this frame and count it. The
			// window that misses it is flagged invalid; nothing waits here.
			s.drops++
			if s.drops == 1 || s.drops%100 == 0 {
				s.log.Warn("edge stage behind, dropping samples", "sensor", s.name, "drops", s.drops)
			}
		}
	}
}
