package agent

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"medagent/edge/alarm"
	"medagent/edge/pipeline"
	"medagent/telemetry"
)

// appender is where the edge stage puts its packs: the spool writer.
type appender interface {
	Append(ctx context.Context, class telemetry.Class, stream string, t time.Time, payload []byte) (uint64, error)
}

// edge runs the pipeline in its own goroutine: frames in, and at the end of
// every window the packs it makes go to the spool.
type edge struct {
	window time.Duration
	in     <-chan frame
	out    appender
	log    *slog.Logger
	now    func() time.Time

	mu     sync.Mutex // guards p, latest and errs for the control socket
	p      *pipeline.Pipeline
	latest map[string]telemetry.Pack // last telemetry pack per sensor
	errs   int64
}

func newEdge(window time.Duration, p *pipeline.Pipeline, in <-chan frame, out appender, log *slog.Logger, now func() time.Time) *edge {
	return &edge{window: window, p: p, in: in, out: out, log: log, now: now, latest: map[string]telemetry.Pack{}}
}

func (e *edge) Run(ctx context.Context) error {
	t := time.NewTicker(e.window)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case f := <-e.in:
			e.mu.Lock()
			e.p.Push(f.sensor, f.blocks)
			e.mu.Unlock()
		case <-t.C:
			e.mu.Lock()
			packs := e.p.Flush(e.now())
			for _, p := range packs {
				if p.Class == telemetry.ClassTelemetry {
					e.latest[p.Stream] = p
				}
			}
			e.mu.Unlock()
			// Alarms first: they are the most urgent records of the window.
			for _, p := range packs {
				if p.Class == telemetry.ClassAlarm {
					e.spool(ctx, &p)
				}
			}
			for _, p := range packs {
				if p.Class != telemetry.ClassAlarm {
					e.spool(ctx, &p)
				}
			}
		}
	}
}

// Latest returns the last telemetry pack of every sensor.
func (e *edge) Latest() map[string]telemetry.Pack {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]telemetry.Pack, len(e.latest))
	for k, v := range e.latest {
		out[k] = v
	}
	return out
}

// Alarms returns the active alarms.
func (e *edge) Alarms() []alarm.Alarm {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.p.Active()
}

// Ack acknowledges an alarm and spools the transition.
func (e *edge) Ack(ctx context.Context, id alarm.ID) error {
	e.mu.Lock()
	packs, err := e.p.Ack(e.now(), id)
	e.mu.Unlock()
	if err != nil {
		return err
	}
	for _, p := range packs {
		e.spool(ctx, &p)
	}
	return nil
}

func (e *edge) spool(ctx context.Context, p *telemetry.Pack) {
	b, err := p.Marshal()
	if err == nil {
		_, err = e.out.Append(ctx, p.Class, p.Stream, p.Time, b)
	}
	if err != nil && ctx.Err() == nil {
		e.mu.Lock()
		e.errs++
		e.mu.Unlock()
		e.log.Error("spool append failed", "stream", p.Stream, "class", p.Class.String(), "err", err)
	}
}
