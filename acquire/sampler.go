package acquire

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"medagent/edge/pipeline"
	"medagent/hal/buserr"
	"medagent/sensors"
)

// streamInfo describes one stream a source produces.
type streamInfo struct {
	name string
	pipeline.Stream
}

// source is one configured sensor: what it produces, and how to open it.
type source interface {
	kind() pipeline.Kind
	streams() []streamInfo
	rate() float64
	// paced reports whether the device's read waits for its data (DRDY,
	// a serial stream); otherwise the sampler reads on its tick.
	paced() bool
	open() (device, error)
}

// runner is a source with a simulated peer to drive while it is sampled.
type runner interface {
	run(ctx context.Context) error
}

// device is an open sensor. read appends the samples it has to blocks
// (one per stream, in the order of streams()); samples the device reports
// lost are appended as invalid where they were lost. now is the sampler's
// monotonic clock. An error means the device must be closed and reopened.
type device interface {
	read(blocks []sensors.Block, now time.Duration) (readStatus, error)
	close() error
}

// readStatus reports in-band troubles of one read.
type readStatus struct {
	lost  int  // samples lost by the device (FIFO overflow, dropped frames)
	bad   int  // frames dropped for a bad checksum
	stuck bool // raw values repeated for longer than stuck_after
	// uncounted: the device lost more samples than it could count (the
	// MAX3010x overflow counter stops at 31). The sampler then takes the
	// number from the clock and puts the missing slots, invalid, at
	// index uncountedAt of the read's blocks.
	uncounted   bool
	uncountedAt int
}

// frame carries one read of one sensor to the edge stage. The blocks are
// allocated per frame and owned by the receiver (about 25 frames/s per
// sensor); the devices' own buffers are reused.
type frame struct {
	sensor string
	blocks []sensors.Block
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
	src    source
	out    chan<- frame
	events Appender
	tick   time.Duration
	log    *slog.Logger
	now    func() time.Time     // wall clock
	mono   func() time.Duration // monotonic clock of sensors.Block.Mono
	drops  int64                // frames dropped because the edge stage was behind

	backoffMin, backoffMax time.Duration

	rate     float64
	streams  []streamInfo
	next     time.Duration // monotonic time of the next sample
	started  bool
	dev      device
	f        faults
	lossCond string        // condition of samples the device reports lost
	lastData time.Duration // when the open device last delivered samples
}

func (s *sampler) Run(ctx context.Context) error {
	s.rate, s.streams = s.src.rate(), s.src.streams()
	if s.backoffMin == 0 {
		s.backoffMin, s.backoffMax = backoffMin, backoffMax
	}
	s.lossCond = condFramesLost
	if l, ok := s.src.(interface{ lossCondition() string }); ok {
		s.lossCond = l.lossCondition()
	}
	s.f.init(s)
	defer func() {
		if s.dev != nil {
			s.dev.close()
		}
	}()
	if r, ok := s.src.(runner); ok {
		// A simulated peer behind the device (the oximeter on a pty):
		// it runs exactly as long as this loop.
		ctx2, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := r.run(ctx2); err != nil {
				s.log.Error("sensor simulator stopped", "sensor", s.name, "err", err)
			}
		}()
		defer func() { cancel(); <-done }()
	}
	t := time.NewTicker(s.tick)
	defer t.Stop()
	var retryAt time.Duration
	wait := func() bool {
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
				d, err := s.src.open()
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
		if !s.src.paced() && !wait() {
			return nil
		}
		blocks := s.blocks()
		now := s.mono()
		st, err := s.dev.read(blocks, now)
		if len(blocks[0].Samples) > 0 {
			s.lastData = now
		} else if err == nil && now-s.lastData > s.noDataAfter() {
			// Answering the bus but delivering nothing (a part in
			// shutdown, a FIFO that stopped filling) is a fault too.
			err = fmt.Errorf("no samples for %v: %w", (now - s.lastData).Round(time.Millisecond), buserr.ErrTimeout)
		}
		if n := len(blocks[0].Samples); n > 0 {
			if st.stuck {
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
			s.dev.close()
			s.dev = nil
			retryAt = s.mono() + s.f.failed(ctx, err)
			continue
		}
		if st.stuck {
			s.dev.close()
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
	return max(500*time.Millisecond, time.Duration(3/s.rate*float64(time.Second))+s.tick)
}

// blocks returns fresh blocks for one read.
func (s *sampler) blocks() []sensors.Block {
	b := make([]sensors.Block, len(s.streams))
	want := int(s.rate*s.tick.Seconds()) + 2
	for i, st := range s.streams {
		b[i] = sensors.Block{Stream: s.name + "." + st.name, Unit: st.Unit, Rate: s.rate,
			Samples: make([]float64, 0, want), Valid: make([]bool, 0, want)}
	}
	return b
}

// gapTolerance is how far the samples of a read may start after the
// expected time before the difference becomes invalid samples; below it
// the read is taken as continuous (scheduling jitter).
func (s *sampler) gapTolerance() time.Duration {
	return max(time.Duration(3/s.rate*float64(time.Second)), 3*s.tick)
}

// place stamps the n samples of a read that ended at now. They are taken
// to be the latest n samples; a start later than expected by more than
// the tolerance is a gap, filled with invalid samples before them. When
// the device could not count all it lost (st.uncounted), the slots due
// by the clock since the expected time that the read does not hold are
// invalid samples where the device lost them, whatever their number.
func (s *sampler) place(blocks []sensors.Block, now time.Duration, st readStatus) {
	n := len(blocks[0].Samples)
	at := now - s.dur(n)
	if !s.started {
		s.next, s.started = at, true
	}
	if due := int((now - s.next).Seconds() * s.rate); st.uncounted && due > n {
		g := due - n
		for i := range blocks {
			b := &blocks[i]
			b.Samples = slices.Insert(b.Samples, st.uncountedAt, make([]float64, g)...)
			b.Valid = slices.Insert(b.Valid, st.uncountedAt, make([]bool, g)...)
		}
		n += g
	} else if at-s.next > s.gapTolerance() {
		g := int((at - s.next).Seconds() * s.rate)
		for i := range blocks {
			b := &blocks[i]
			b.Samples = slices.Insert(b.Samples, 0, make([]float64, g)...)
			b.Valid = slices.Insert(b.Valid, 0, make([]bool, g)...)
		}
		n += g
	}
	s.emit(blocks, n)
}

// gap emits the samples due between the expected time and now as invalid.
func (s *sampler) gap(now time.Duration) {
	n := int((now - s.next).Seconds() * s.rate)
	if n <= 0 {
		return
	}
	b := s.blocks()
	for i := range b {
		b[i].Samples = append(b[i].Samples, make([]float64, n)...)
		b[i].Valid = append(b[i].Valid, make([]bool, n)...)
	}
	s.emit(b, n)
}

// emit stamps blocks holding n samples from s.next and sends them.
func (s *sampler) emit(blocks []sensors.Block, n int) {
	wall := s.now().Add(s.next - s.mono())
	for i := range blocks {
		blocks[i].Mono, blocks[i].Wall = s.next, wall
	}
	s.next += s.dur(n)
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

func (s *sampler) dur(n int) time.Duration {
	return time.Duration(float64(n) / s.rate * float64(time.Second))
}
