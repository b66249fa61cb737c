package acquire

import (
	"context"
	"errors"
	"time"

	"medagent/hal/buserr"
	"medagent/sensors"
	"medagent/telemetry"
)

// Technical conditions of a sensor, as spooled in "event/condition".
const (
	condNACK         = "nack"
	condTimeout      = "timeout"
	condWrongID      = "wrong_id"
	condNotFound     = "not_found"
	condDisconnected = "disconnected"
	condPermission   = "permission"
	condBusy         = "busy"
	condBadConfig    = "bad_config"
	condBadFrame     = "bad_frame"
	condStuck        = "stuck"
	condOverflow     = sensors.LossOverflow // a chip FIFO overflowed
	condFramesLost   = sensors.LossFrames   // frames missed
	condBadChecksum  = "bad_checksum"
	condError        = "error"
)

// errStuck is the fault of a device whose values stopped changing.
var errStuck = errors.New("raw values repeat beyond stuck_after")

// condition names the technical condition of a device error.
func condition(err error) string {
	for _, c := range []struct {
		err  error
		cond string
	}{
		{errStuck, condStuck},
		{buserr.ErrNACK, condNACK},
		{buserr.ErrWrongID, condWrongID},
		{buserr.ErrDisconnected, condDisconnected},
		{buserr.ErrNotFound, condNotFound},
		{buserr.ErrTimeout, condTimeout},
		{buserr.ErrPermission, condPermission},
		{buserr.ErrBusy, condBusy},
		{buserr.ErrBadConfig, condBadConfig},
		{buserr.ErrBadFrame, condBadFrame},
	} {
		if errors.Is(err, c.err) {
			return c.cond
		}
	}
	return condError
}

// faults keeps a sampler's fault state and spools its events: one when a
// condition starts (or changes), one when the device is healthy again,
// and for in-band losses (FIFO overflow, bad checksums) at most one per
// lossEvery with the count. Events carry no samples or vitals.
type faults struct {
	s        *sampler
	active   string // condition being recovered from; "" when healthy
	first    string // condition that started the episode
	since    time.Duration
	attempts int
	backoff  time.Duration
	goodFrom time.Duration // start of the current fault-free run
	lost     int
	bad      int
	lastLoss time.Duration
	lastBad  time.Duration
}

func (f *faults) init(s *sampler) {
	f.s, f.backoff, f.goodFrom = s, s.backoffMin, -1
	f.lastLoss, f.lastBad = -time.Hour, -time.Hour
}

// failed records a failed open or a device fault and returns how long to
// wait before the next open.
func (f *faults) failed(ctx context.Context, err error) time.Duration {
	c := condition(err)
	f.attempts++
	wait := f.backoff
	f.backoff = min(2*f.backoff, f.s.backoffMax)
	f.goodFrom = -1
	if c != f.active {
		if f.active == "" {
			f.since, f.first = f.s.mono(), c
		}
		f.active = c
		f.s.log.Warn("sensor fault, reopening", "sensor", f.s.name, "condition", c, "retry_in", wait, "err", err)
		f.spool(ctx, []telemetry.Record{
			{Name: "event/condition", String: c},
			{Name: "event/state", String: "active"},
			{Name: "event/error", String: err.Error()},
			{Name: "event/retry_in", Unit: "s", Value: telemetry.V(wait.Seconds())},
		})
	}
	return wait
}

// opened records a successful open; the episode clears once the device
// has read clearAfter of fault-free data (a reopened stuck part must
// show changing values first).
func (f *faults) opened(ctx context.Context) {
	if f.active != "" {
		f.s.log.Info("sensor reopened", "sensor", f.s.name, "condition", f.active, "attempts", f.attempts)
	}
}

// clearAfter is how long a reopened device must read without a fault
// before its condition is spooled as cleared.
const clearAfter = time.Second

// healthy notes a fault-free read at now: it ends an episode after
// clearAfter, and resets the backoff after healthyAfter.
func (f *faults) healthy(ctx context.Context, now time.Duration) {
	if f.goodFrom < 0 {
		f.goodFrom = now
	}
	if f.active != "" && now-f.goodFrom >= clearAfter {
		// The episode is named by the condition that started it (an
		// unplugged port is "disconnected", then "not_found" until it
		// is back).
		f.spool(ctx, []telemetry.Record{
			{Name: "event/condition", String: f.first},
			{Name: "event/state", String: "cleared"},
			{Name: "event/reopens", Value: telemetry.V(float64(f.attempts))},
			{Name: "event/duration", Unit: "s", Value: telemetry.V((now - f.since).Seconds())},
		})
		f.active, f.attempts = "", 0
	}
	if now-f.goodFrom >= healthyAfter {
		f.backoff = f.s.backoffMin
	}
}

// lossEvery bounds the events of in-band losses: the first at once, then
// at most one per period with the count since the previous one.
const lossEvery = 10 * time.Second

// inBand counts samples lost and frames dropped inside a working read.
func (f *faults) inBand(ctx context.Context, st sensors.Status) {
	now := f.s.mono()
	f.lost += st.Lost
	f.bad += st.Bad
	if f.lost > 0 && now-f.lastLoss >= lossEvery {
		f.lastLoss = now
		f.s.log.Warn("sensor lost samples", "sensor", f.s.name, "lost", f.lost)
		f.spool(ctx, []telemetry.Record{
			{Name: "event/condition", String: f.s.src.Loss},
			{Name: "event/lost", Value: telemetry.V(float64(f.lost))},
		})
		f.lost = 0
	}
	if f.bad > 0 && now-f.lastBad >= lossEvery {
		f.lastBad = now
		f.s.log.Warn("sensor frames with bad checksum", "sensor", f.s.name, "frames", f.bad)
		f.spool(ctx, []telemetry.Record{
			{Name: "event/condition", String: condBadChecksum},
			{Name: "event/frames", Value: telemetry.V(float64(f.bad))},
		})
		f.bad = 0
	}
}

func (f *faults) spool(ctx context.Context, recs []telemetry.Record) {
	p := telemetry.Pack{Stream: f.s.name, Class: telemetry.ClassEvent, Time: f.s.now(), Records: recs, Simulated: f.s.sim}
	if f.s.evq != nil {
		f.s.evq.put(p)
		return
	}
	b, err := p.Marshal()
	if err == nil {
		_, err = f.s.events.Append(ctx, p.Class, p.Stream, p.Time, b)
	}
	if err != nil && ctx.Err() == nil {
		f.s.log.Error("spool append of sensor event failed", "sensor", f.s.name, "err", err)
	}
}
