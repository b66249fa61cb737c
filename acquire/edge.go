package acquire

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"medagent/edge/alarm"
	"medagent/edge/pipeline"
	"medagent/telemetry"
)

// edge runs the pipeline in its own goroutine. Frames are placed on the
// time axis as they come (window.go); window k covers monotonic time
// [k·W, (k+1)·W) and is cut edgeGrace after it ends, so that the samplers'
// last reads of it have arrived. A window the loop reaches late (a busy
// machine) is still cut and emitted, in order, and its telemetry packs say
// so (window/late, window/delay): no window is ever skipped, and none is
// shorter than W. Pack and alarm times are base times of the timebase.
type edge struct {
	window time.Duration
	in     <-chan frame
	out    Appender
	log    *slog.Logger
	tb     *timebase
	order  []string  // sensors, in configuration order
	sim    simulated // which packs come from the simulators

	mu     sync.Mutex // guards p, lines, latest, lastEnd and errs
	p      *pipeline.Pipeline
	lines  map[string]*line
	latest map[string]telemetry.Pack // last telemetry pack per sensor
	// lastVital is when a window last held a valid vital sign.
	lastVital time.Time
	// lastFlush is when the last window was cut: the watchdog's sign of
	// life. lastEnd is the base time that window ended.
	lastFlush, lastEnd time.Time
	// lastAlarm is the alarm manager's time: the last window end or
	// alarm tick (its clock must never go back).
	lastAlarm time.Time
	late      uint64 // windows cut late
	errs      int64
}

// edgeGrace is how long after its end a window is cut: a few sampler
// ticks, so that samples read at the window's end are in it.
const edgeGrace = 4 * sampleTick

func newEdge(window time.Duration, p *pipeline.Pipeline, sensors []string, in <-chan frame, out Appender, log *slog.Logger, tb *timebase) *edge {
	e := &edge{window: window, p: p, order: sensors, in: in, out: out, log: log, tb: tb,
		lines: map[string]*line{}, latest: map[string]telemetry.Pack{}}
	for _, s := range sensors {
		e.lines[s] = &line{}
	}
	return e
}

func (e *edge) now() time.Time { return e.tb.now() }

func (e *edge) Run(ctx context.Context) error {
	anchor := e.tb.anchorPack()
	e.spool(ctx, &anchor)
	w := e.window
	end := (e.tb.mono()/w + 1) * w // end of the window we are in
	t := time.NewTimer(end + edgeGrace - e.tb.mono())
	defer t.Stop()
	alarms := time.NewTicker(alarmTick)
	defer alarms.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case f := <-e.in:
			e.place(f)
		case <-alarms.C:
			e.tickAlarms(ctx, end)
		case <-t.C:
			for now := e.tb.mono(); now >= end+edgeGrace; now = e.tb.mono() {
				// Frames that came while we were busy first: they hold
				// this window's samples.
				e.drain()
				e.cut(ctx, end, now-end)
				end += w
			}
			t.Reset(end + edgeGrace - e.tb.mono())
		}
	}
}

func (e *edge) place(f frame) {
	e.mu.Lock()
	if l := e.lines[f.sensor]; l != nil {
		l.add(f.blocks)
	}
	e.mu.Unlock()
	f.release() // the line copied the samples
}

// drain places the frames waiting in the queue.
func (e *edge) drain() {
	for {
		select {
		case f := <-e.in:
			e.place(f)
		default:
			return
		}
	}
}

// alarmTick is how often the alarm delays run between window ends, so that
// an alarm is raised when its condition delay ends, not up to a window
// later.
const alarmTick = 100 * time.Millisecond

// tickAlarms runs the alarm delays at the current time (never past next,
// the end of the window in progress, which the next cut uses) and spools
// the transitions due.
func (e *edge) tickAlarms(ctx context.Context, next time.Duration) {
	e.mu.Lock()
	at := e.tb.at(min(e.tb.mono(), next))
	if at.Before(e.lastAlarm) {
		e.mu.Unlock()
		return
	}
	e.lastAlarm = at
	packs := e.p.Tick(at)
	e.mu.Unlock()
	for _, p := range packs {
		e.spool(ctx, &p)
	}
}

// cut ends the window that ended at monotonic time end, delay after it.
func (e *edge) cut(ctx context.Context, end, delay time.Duration) {
	late := delay >= e.window+edgeGrace // a ticker would have dropped it
	e.mu.Lock()
	for _, name := range e.order {
		if b := e.lines[name].cut(end, e.tb.at); b != nil {
			e.p.Push(name, b)
		}
	}
	e.lastFlush, e.lastEnd = e.now(), e.tb.at(end)
	e.lastAlarm = e.lastEnd
	packs := e.p.Flush(e.lastEnd)
	for i := range packs {
		p := &packs[i]
		if p.Class != telemetry.ClassTelemetry {
			continue
		}
		if late {
			p.Records = append(p.Records,
				telemetry.Record{Name: "window/late", Bool: telemetry.B(true)},
				telemetry.Record{Name: "window/delay", Unit: "s", Value: telemetry.V(math.Round(delay.Seconds()*1000) / 1000)})
		}
		e.latest[p.Stream] = *p
		if hasValidVital(*p) {
			e.lastVital = p.Time
		}
	}
	if late {
		e.late++
		if e.late == 1 || e.late%100 == 0 {
			e.log.Warn("edge stage late, window emitted late", "delay", delay.Round(time.Millisecond), "late_windows", e.late)
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
	if s, ok := e.tb.checkStep(); ok {
		e.log.Warn("wall clock stepped", "step", s.step, "applied", s.applied, "offset", s.offset)
		p := s.pack()
		e.spool(ctx, &p)
	}
}

// lineStats returns what each sensor's line counted.
func (e *edge) lineStats() map[string]lineStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]lineStats, len(e.lines))
	for n, l := range e.lines {
		out[n] = l.stats()
	}
	return out
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
	// The alarm manager runs on window ends and alarm ticks: acknowledge
	// at the last of them, so that its clock never goes back.
	at := e.lastAlarm
	if at.IsZero() {
		at = e.now()
	}
	packs, err := e.p.Ack(at, id)
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
	e.sim.mark(p)
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
