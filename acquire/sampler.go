package acquire

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"medagent/hal/buserr"
	"medagent/sensors"
)

// frame carries one read of one sensor to the edge stage. The blocks come
// from the sampler's pool when it has one: the receiver gives them back
// there once it has placed the samples (release), so the sampling loop
// allocates nothing. Without a pool they are the receiver's.
type frame struct {
	sensor string
	blocks []sensors.Block
	pool   chan []sensors.Block
}

// release gives the blocks back to their sampler's pool, if any.
func (f frame) release() {
	if f.pool == nil {
		return
	}
	select {
	case f.pool <- f.blocks:
	default:
	}
}

// Reopen backoff: doubled after every failed open or fault, capped; reset
// after healthyAfter of fault-free reads.
const (
	backoffMin   = 250 * time.Millisecond
	backoffMax   = 10 * time.Second
	healthyAfter = 10 * time.Second
)

// sampler is the sampling loop of one sensor. It opens the device, reads
// it every tick (or as the device paces), stamps blocks with the
// monotonic clock and the rate, and hands them to the edge stage without
// waiting. Faults become technical-condition events (see sensor_faults.go), the
// missing time becomes invalid samples, and the device is reopened with
// capped exponential backoff; the loop only ends with ctx.
type sampler struct {
	name   string
	src    sensors.Source
	buses  sensors.Buses
	out    chan<- frame
	events Appender
	sim    bool // on bus sim: its events are marked simulated
	tick   time.Duration
	log    *slog.Logger
	now    func() time.Time     // base time (events)
	mono   func() time.Duration // monotonic clock of sensors.Block.Mono
	// wallAt maps Mono to base time (sensors.Block.Wall); nil derives it
	// from now and mono.
	wallAt func(time.Duration) time.Time
	drops  int64 // frames dropped because the edge stage was behind

	backoffMin, backoffMax time.Duration

	// rt is the SCHED_FIFO priority of this loop's thread (0: normal);
	// origin is the monotonic clock's origin, for kernel sleeps. evq,
	// when set, takes the loop's events (a real-time thread never waits
	// for the spool). pool holds reusable blocks (nil: allocate).
	rt       int
	rtActive bool
	origin   time.Time
	evq      *events
	pool     chan []sensors.Block

	next     time.Duration // monotonic time of the next sample
	started  bool
	dev      sensors.Device
	f        faults
	lastData time.Duration // when the open device last delivered samples
}

func (s *sampler) Run(ctx context.Context) error {
	if s.backoffMin == 0 {
		s.backoffMin, s.backoffMax = backoffMin, backoffMax
	}
	s.f.init(s)
	defer func() {
		if s.dev != nil {
			s.dev.Close()
		}
	}()
	if s.rt > 0 {
		err := enterRealtime(s.rt)
		if err != nil {
			s.log.Warn("sampling at normal priority", "sensor", s.name, "err", err)
		} else {
			s.log.Info("sampling on a real-time thread", "sensor", s.name, "priority", s.rt)
		}
		s.rtActive = err == nil
		if s.evq != nil {
			s.evq.put(realtimePack(s.now(), s.name, s.rt, err))
		}
	}
	t := time.NewTicker(s.tick)
	defer t.Stop()
	var retryAt time.Duration
	nextTick := s.mono() + s.tick
	wait := func() bool {
		if s.rtActive {
			// The kernel wakes this thread at its priority; the Go
			// timers would wait for threads of normal priority.
			sleepUntil(s.origin, nextTick)
			nextTick = max(nextTick+s.tick, s.mono())
			return ctx.Err() == nil
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	for ctx.Err() == nil {
		if s.dev == nil {
			now := s.mono()
			if now >= retryAt {
				d, err := s.src.Open(s.buses)
				if err != nil {
					retryAt = now + s.f.failed(ctx, err)
				} else {
					s.dev, s.lastData = d, now
					s.f.opened(ctx)
				}
			}
			if s.dev == nil {
				if !s.started {
					s.next, s.started = now, true
				}
				s.gap(now) // the outage is time without valid samples
				if !wait() {
					return nil
				}
				continue
			}
		}
		if !s.src.Paced && !wait() {
			return nil
		}
		blocks := s.blocks()
		now := s.mono()
		st, err := s.dev.Read(blocks, now)

		if len(blocks[0].Samples) > 0 {
			s.lastData = now
		} else if err == nil && now-s.lastData > s.noDataAfter() {
			// Answering the bus but delivering nothing (a part in
			// shutdown, a FIFO that stopped filling) is a fault too.
			err = fmt.Errorf("no samples for %v: %w", (now - s.lastData).Round(time.Millisecond), buserr.ErrTimeout)
		}
		if n := len(blocks[0].Samples); n > 0 {
			if st.Stuck {
				// Repeated values are not fresh data.
				for i := range blocks {
					clear(blocks[i].Valid)
				}
			}
			s.place(blocks, s.mono(), st)
		}
		if err != nil && ctx.Err() != nil {
			return nil // the read was cut short by the shutdown
		}
		s.f.inBand(ctx, st)
		if err != nil {
			s.dev.Close()
			s.dev = nil
			retryAt = s.mono() + s.f.failed(ctx, err)
			continue
		}
		if st.Stuck {
			s.dev.Close()
			s.dev = nil
			retryAt = s.mono() + s.f.failed(ctx, errStuck)
			continue
		}
		s.f.healthy(ctx, now)
	}
	return nil
}

// noDataAfter is how long an open device may deliver no samples.
func (s *sampler) noDataAfter() time.Duration {
	return max(500*time.Millisecond, time.Duration(3/s.src.Rate*float64(time.Second))+s.tick)
}

// blocks returns empty blocks for one read: from the pool when it has
// some, else fresh ones.
func (s *sampler) blocks() []sensors.Block {
	select {
	case b := <-s.pool: // a nil pool never yields
		for i := range b {
			b[i].Reset()
		}
		return b
	default:
	}
	b := make([]sensors.Block, len(s.src.Streams))
	want := int(s.src.Rate*s.tick.Seconds()) + 2
	for i, st := range s.src.Streams {
		b[i] = sensors.Block{Stream: s.name + "." + st.Name, Unit: st.Unit, Rate: s.src.Rate,
			Samples: make([]float64, 0, want), Valid: make([]bool, 0, want)}
	}
	return b
}

// gapTolerance is how far the samples of a read may start after the
// expected time before the difference becomes invalid samples; below it
// the read is taken as continuous (scheduling jitter).
func (s *sampler) gapTolerance() time.Duration {
	return max(time.Duration(3/s.src.Rate*float64(time.Second)), 3*s.tick)
}

// place stamps the n samples of a read that ended at now. They are taken
// to be the latest n samples, the last one taken at now (a part reports a
// sample once it is there); a start later than expected by more than the
// tolerance is a gap, filled with invalid samples before them. When the
// device could not count all it lost (st.uncounted), the slots due by the
// clock since the expected time that the read does not hold are invalid
// samples where the device lost them, whatever their number. (Stamping the
// last sample a sample period before now put a 1/s part's sample a whole
// second back, in a window the edge stage had cut already unless the read
// came just after a window ended: a TMP117 opened at another phase, or in
// one-shot mode, delivered nothing.)
func (s *sampler) place(blocks []sensors.Block, now time.Duration, st sensors.Status) {
	n := len(blocks[0].Samples)
	at := now - s.dur(n-1)
	if !s.started {
		s.next, s.started = at, true
	}
	if due := int((now - s.next).Seconds() * s.src.Rate); st.Uncounted && due > n {
		g := due - n
		for i := range blocks {
			b := &blocks[i]
			b.Samples = slices.Insert(b.Samples, st.UncountedAt, sensors.Lost(g)...)
			b.Valid = slices.Insert(b.Valid, st.UncountedAt, make([]bool, g)...)
		}
		n += g
	} else if at-s.next > s.gapTolerance() {
		g := int((at - s.next).Seconds() * s.src.Rate)
		for i := range blocks {
			b := &blocks[i]
			b.Samples = slices.Insert(b.Samples, 0, sensors.Lost(g)...)
			b.Valid = slices.Insert(b.Valid, 0, make([]bool, g)...)
		}
		n += g
	}
	s.emit(blocks, n)
}

// gap emits the samples due between the expected time and now as invalid.
func (s *sampler) gap(now time.Duration) {
	n := int((now - s.next).Seconds() * s.src.Rate)
	if n <= 0 {
		return
	}
	b := s.blocks()
	for i := range b {
		b[i].Samples = append(b[i].Samples, sensors.Lost(n)...)
		b[i].Valid = append(b[i].Valid, make([]bool, n)...)
	}
	s.emit(b, n)
}

// emit stamps blocks holding n samples from s.next and sends them.
func (s *sampler) emit(blocks []sensors.Block, n int) {
	var wall time.Time
	if s.wallAt != nil {
		wall = s.wallAt(s.next)
	} else {
		wall = s.now().Add(s.next - s.mono())
	}
	for i := range blocks {
		blocks[i].Mono, blocks[i].Wall = s.next, wall
	}
	s.next += s.dur(n)
	select {
	case s.out <- frame{sensor: s.name, blocks: blocks, pool: s.pool}:
	default:
		// The edge stage is behind: drop this frame and count it. The
		// window that misses it is flagged invalid; nothing waits here.
		frame{blocks: blocks, pool: s.pool}.release()
		s.drops++
		if s.drops == 1 || s.drops%100 == 0 {
			s.log.Warn("edge stage behind, dropping samples", "sensor", s.name, "drops", s.drops)
		}
	}
}

func (s *sampler) dur(n int) time.Duration {
	return time.Duration(float64(n) / s.src.Rate * float64(time.Second))
}
