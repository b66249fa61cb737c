package agent

import (
	"context"
	"log/slog"
	"time"

	"medagent/telemetry"
)

// appender is where the edge stage puts its packs: the spool writer.
type appender interface {
	Append(ctx context.Context, class telemetry.Class, stream string, t time.Time, payload []byte) (uint64, error)
}

// sensorEdge holds the per-window state of one sensor.
type sensorEdge struct {
	stats []*windowStats // one per stream, in source order
	first time.Time
}

// edge turns frames into one pack per sensor per window and spools them.
type edge struct {
	window  time.Duration
	in      <-chan frame
	sensors map[string]*sensorEdge
	order   []string // sensor names, for a stable output order
	out     appender
	log     *slog.Logger
	now     func() time.Time
	errs    int64
}

func newEdge(window time.Duration, in <-chan frame, out appender, log *slog.Logger, now func() time.Time) *edge {
	return &edge{window: window, in: in, out: out, log: log, now: now, sensors: map[string]*sensorEdge{}}
}

// addSensor declares a sensor and its streams before Run.
func (e *edge) addSensor(name string, rate float64, streams []streamInfo) {
	se := &sensorEdge{}
	for _, st := range streams {
		se.stats = append(se.stats, newWindowStats(st.mdc, st.unit, rate))
	}
	e.sensors[name] = se
	e.order = append(e.order, name)
}

func (e *edge) Run(ctx context.Context) error {
	t := time.NewTicker(e.window)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case f := <-e.in:
			e.push(f)
		case <-t.C:
			e.flush(ctx)
		}
	}
}

func (e *edge) push(f frame) {
	se := e.sensors[f.sensor]
	if se == nil {
		return
	}
	for i := range f.blocks {
		if i < len(se.stats) {
			se.stats[i].push(&f.blocks[i])
		}
	}
	if se.first.IsZero() && len(f.blocks) > 0 {
		se.first = f.blocks[0].Wall
	}
}

// flush ends the window of every sensor. A sensor that sent nothing still
// gets a pack, with its streams flagged invalid: silence is reported.
func (e *edge) flush(ctx context.Context) {
	for _, name := range e.order {
		se := e.sensors[name]
		at := se.first
		if at.IsZero() {
			at = e.now().Add(-e.window)
		}
		p := telemetry.Pack{Stream: name, Class: telemetry.ClassTelemetry, Time: at}
		for _, w := range se.stats {
			p.Records = w.flush(e.window, p.Records)
		}
		se.first = time.Time{}
		e.spool(ctx, &p)
	}
}

func (e *edge) spool(ctx context.Context, p *telemetry.Pack) {
	b, err := p.Marshal()
	if err == nil {
		_, err = e.out.Append(ctx, p.Class, p.Stream, p.Time, b)
	}
	if err != nil && ctx.Err() == nil {
		e.errs++
		e.log.Error("spool append failed", "stream", p.Stream, "err", err)
	}
}
