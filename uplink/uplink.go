package uplink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"medagent/senml"
	"medagent/spool"
	"medagent/tlsconf"
)

// Source is the spool as the uplink reads it.
type Source interface {
	// Next blocks until a record is available or ctx is done.
	Next(ctx context.Context) (spool.Record, error)
	// Ack marks a record as delivered; acks may be out of order.
	Ack(id spool.ID) error
	// Rewind makes Next start again at the oldest unacked record.
	Rewind() error
}

// Uplink publishes records from a Source to an MQTT broker.
type Uplink struct {
	opts   Options
	src    Source
	log    *slog.Logger
	tls    *tls.Config
	format senml.Format

	// Seams for tests.
	sleep func(ctx context.Context, d time.Duration) error
	rand  func() float64

	mu sync.Mutex
	st Status
}

// Status is a snapshot of the uplink's state.
type Status struct {
	Connected   bool
	LastError   error // the last session error, nil if none yet
	LastErrorAt time.Time
	Connects    uint64 // successful connects
	Published   uint64 // records handed to the client
	Acked       uint64 // records acked to the spool after their PUBACK
	Undecodable uint64 // records dropped (and acked) because they did not render
	InFlight    int    // published, PUBACK not yet seen
}

// New checks opts, loads the TLS material (failing closed on any problem
// with it) and returns an uplink reading from src.
func New(opts Options, src Source, log *slog.Logger) (*Uplink, error) {
	if src == nil {
		return nil, errors.New("uplink: no source")
	}
	if log == nil {
		return nil, errors.New("uplink: no logger")
	}
	opts.ensureDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	f, err := senml.ParseFormat(opts.Format)
	if err != nil {
		return nil, fmt.Errorf("uplink: %w", err)
	}
	tc, err := tlsconf.Client(opts.TLS)
	if err != nil {
		return nil, fmt.Errorf("uplink: %w", err)
	}
	return &Uplink{
		opts: opts, src: src, log: log, tls: tc, format: f,
		sleep: sleepCtx, rand: rand.Float64,
	}, nil
}

// Status returns a snapshot of the uplink's state.
func (u *Uplink) Status() Status {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.st
}

func (u *Uplink) update(f func(s *Status)) {
	u.mu.Lock()
	f(&u.st)
	u.mu.Unlock()
}

// Run connects, publishes and reconnects until ctx is done. It returns nil
// when ctx is canceled, and ctx's error otherwise (e.g. a deadline).
func (u *Uplink) Run(ctx context.Context) error {
	attempt := 0
	for {
		connected, err := u.session(ctx)
		if ctx.Err() != nil {
			return exit(ctx)
		}
		if connected {
			attempt = 0
		}
		u.update(func(s *Status) { s.LastError, s.LastErrorAt = err, time.Now() })
		if connected {
			// Records read but not acked go again, from the oldest.
			if rerr := u.src.Rewind(); rerr != nil {
				err = errors.Join(err, fmt.Errorf("uplink: rewind spool: %w", rerr))
			}
		}
		d := backoff(attempt, u.opts.BackoffMin, u.opts.BackoffMax, u.rand())
		attempt++
		u.log.Warn("uplink: disconnected, will retry", "broker", u.opts.Broker, "err", err, "retry_in", d, "attempt", attempt)
		if u.sleep(ctx, d) != nil {
			return exit(ctx)
		}
	}
}

func exit(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil
	}
	return fmt.Errorf("uplink: %w", ctx.Err())
}
