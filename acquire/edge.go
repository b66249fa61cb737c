package acquire

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"medagent/edge/alarm"
	"medagent/edge/pipeline"
	"medagent/telemetry"
)

// edge runs the pipeline in its own goroutine: frames in, and at the end of
// every window the packs it makes go to the spool.
type edge struct {
	window time.Duration
	in     <-chan frame
	out    Appender
	log    *slog.Logger
	now    func() time.Time

	mu     sync.Mutex // guards p, latest and errs for the control socket
	p      *pipeline.Pipeline
	latest map[string]telemetry.Pack // last telemetry pack per sensor
	// lastVital is when a window last held a valid vital sign.
	lastVital time.Time
	// lastFlush is when the last window ended: the watchdog's sign of life.
	lastFlush time.Time
	errs      int64
}

func newEdge(window time.Duration, p *pipeline.Pipeline, in <-chan frame, out Appender, log *slog.Logger, now func() time.Time) *edge {
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
			e.lastFlush = e.now()
			packs := e.p.Flush(e.lastFlush)
			for _, p := range packs {
				if p.Class == telemetry.ClassTelemetry {
					e.latest[p.Stream] = p
					if hasValidVital(p) {
						e.lastVital = p.Time
					}
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

// vitalNames are the derived vital signs; a valid one means a patient is
// being monitored.
var vitalNames = []string{pipeline.MDCHeartRate, pipeline.MDCSpO2, pipeline.MDCPulseRate, pipeline.MDCTempBody}

func hasValidVital(p telemetry.Pack) bool {
	for _, r := range p.Records {
		for _, v := range vitalNames {
			if r.Name == v+"/valid" && r.Bool != nil && *r.Bool {
				return true
			}
		}
	}
	return false
}

// Monitoring reports whether a patient is being monitored: a valid vital
// sign within grace, or an active alarm. The update engine does not reboot
// while it is true.
func (e *edge) Monitoring(grace time.Duration) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.lastVital.IsZero() && e.now().Sub(e.lastVital) < grace {
		return true
	}
	return len(e.p.Active()) > 0
}

// SensorsUp returns nil when every sensor's last window is recent and holds
// a valid stream, else an error naming the first sensor that is not.
func (e *edge) SensorsUp(names []string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, n := range names {
		p, ok := e.latest[n]
		if !ok || e.now().Sub(p.Time) > 3*e.window+time.Second {
			return fmt.Errorf("sensor %s: no recent data", n)
		}
		valid := false
		for _, r := range p.Records {
			if strings.HasSuffix(r.Name, "/valid") && r.Bool != nil && *r.Bool {
				valid = true
			}
		}
		if !valid {
			return fmt.Errorf("sensor %s: no valid signal", n)
		}
	}
	return nil
}

// Alive returns nil while windows keep ending: the edge goroutine, and so
// acquisition, makes progress.
func (e *edge) Alive() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lastFlush.IsZero() || e.now().Sub(e.lastFlush) <= 3*e.window+time.Second {
		return nil
	}
	return fmt.Errorf("edge stage stalled: last window ended %v ago", e.now().Sub(e.lastFlush).Round(time.Second))
}
