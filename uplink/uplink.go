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

	"medagent/internal/ctxsleep"
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

	brokers []string // the device's order (brokerOrder)

	// Seams for tests.
	sleep func(ctx context.Context, d time.Duration) error
	rand  func() float64
	now   func() time.Time
	probe func(ctx context.Context, addr string, timeout time.Duration) bool

	mu   sync.Mutex
	st   Status
	down map[string]bool // brokers whose last TCP connect failed
}

// Status is a snapshot of the uplink's state.
type Status struct {
	Connected bool
	// Broker is the broker of the current session, or of the last attempt.
	Broker string
	// Attempts counts connect attempts; RetryAt is when the next one is
	// due while the uplink waits (zero otherwise).
	Attempts    uint64
	RetryAt     time.Time
	LastError   error // the last session error, nil if none yet
	LastErrorAt time.Time
	Connects    uint64 // successful connects
	// ConnackWait is how long the broker took to answer the last
	// successful CONNECT (from TLS up to CONNACK): long when a recovering
	// cluster held it.
	ConnackWait time.Duration
	Published   uint64 // records handed to the client
	Acked       uint64 // records acked to the spool after their PUBACK
	Undecodable uint64 // records dropped (and acked) because they did not render
	InFlight    int    // published, PUBACK not yet seen
	// Waiting says why the uplink does not try to connect: its device
	// certificate is not valid at the clock's time (a board without RTC
	// in 1970, or an expired certificate). It retries with backoff and
	// connects once the clock or the certificate is right; "" otherwise.
	Waiting string
}

// New checks opts, loads the TLS material (failing closed on any problem
// with it) and returns an uplink reading from src. A device certificate
// that is not valid at the clock's time is not such a problem: the uplink
// then waits (Status.Waiting) and checks again before each attempt, so
// that security state never stops the agent.
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
	if opts.Now != nil {
		opts.TLS.Now = opts.Now
	}
	var st Status
	tc, err := tlsconf.Client(opts.TLS)
	if errors.Is(err, tlsconf.ErrCertTime) {
		log.Warn("uplink: the device certificate is not valid now; waiting for the clock or a renewal (monitoring and spooling go on)", "err", err)
		st.Waiting = err.Error()
	} else if err != nil {
		return nil, fmt.Errorf("uplink: %w", err)
	}
	return &Uplink{
		opts: opts, src: src, log: log, tls: tc, format: f, st: st,
		brokers: brokerOrder(opts.brokerList(), opts.DeviceID),
		sleep:   ctxsleep.Sleep, rand: rand.Float64, now: time.Now, probe: reachable,
		down: map[string]bool{},
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
	r := newRetry(u.opts, u.now())
	next := 0
	for first := true; ; first = false {
		var d time.Duration // the first attempt goes at once
		if !first {
			d = r.backoff(u.rand())
		}
		woke, err := u.wait(ctx, r, d)
		if err != nil {
			return exit(ctx)
		}
		if woke >= 0 {
			next = woke
		}
		broker := u.brokers[next]
		r.take(u.now())
		u.update(func(s *Status) { s.Attempts++; s.Broker = broker; s.RetryAt = time.Time{} })
		connectedFor, err := u.session(ctx, broker)
		if ctx.Err() != nil {
			return exit(ctx)
		}
		r.ended(connectedFor)
		u.update(func(s *Status) { s.LastError, s.LastErrorAt = err, u.now() })
		if connectedFor > 0 {
			// Records read but not acked go again, from the oldest.
			if rerr := u.src.Rewind(); rerr != nil {
				err = errors.Join(err, fmt.Errorf("uplink: rewind spool: %w", rerr))
			}
		}
		u.log.Warn("uplink: disconnected, will retry", "broker", broker, "err", err, "connected_for", connectedFor.Round(time.Millisecond), "failures", r.fails)
		// The next attempt goes to the next node: the one just used is
		// down, or dropped this device.
		next = (next + 1) % len(u.brokers)
	}
}

// wait sleeps for the backoff d, then for as long as the rate limit needs.
// While it sleeps it probes the brokers whose last TCP connect failed; when
// one of them listens again it returns that broker's index (else -1), after
// a wait uniform in [0, returnWindow) if that ends before the backoff: the
// devices of a fleet see a restarted cluster return within the same few
// seconds, and the window spreads their connects over the time the cluster
// needs to take them all.
func (u *Uplink) wait(ctx context.Context, r *retry, d time.Duration) (int, error) {
	deadline := u.now().Add(d)
	u.update(func(s *Status) { s.RetryAt = deadline })
	woke := -1
	for {
		left := deadline.Sub(u.now())
		if left <= 0 {
			break
		}
		probing := woke < 0 && u.anyDown()
		if probing {
			p := u.opts.ProbeInterval
			left = min(left, p/2+time.Duration(u.rand()*float64(p/2)))
		}
		if err := u.sleep(ctx, left); err != nil {
			return -1, err
		}
		if !probing {
			continue
		}
		if woke = u.probeDown(ctx); woke >= 0 {
			spread := time.Duration(u.rand() * float64(u.opts.returnWindow()))
			if at := u.now().Add(spread); at.Before(deadline) {
				deadline = at
				u.update(func(s *Status) { s.RetryAt = deadline })
			}
		}
	}
	if lw := r.limitWait(u.now()); lw > 0 {
		u.update(func(s *Status) { s.RetryAt = u.now().Add(lw) })
		if err := u.sleep(ctx, lw); err != nil {
			return -1, err
		}
	}
	return woke, nil
}

func (u *Uplink) anyDown() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, d := range u.down {
		if d {
			return true
		}
	}
	return false
}

func (u *Uplink) setDown(broker string, down bool) {
	u.mu.Lock()
	u.down[broker] = down
	u.mu.Unlock()
}

// probeDown probes each broker known to be down and returns the index of
// the first that accepts a TCP connection again, or -1.
func (u *Uplink) probeDown(ctx context.Context) int {
	for i, b := range u.brokers {
		u.mu.Lock()
		d := u.down[b]
		u.mu.Unlock()
		if d && u.probe(ctx, hostPort(b), min(u.opts.ConnectTimeout, time.Second)) {
			u.setDown(b, false)
			u.log.Info("uplink: broker listens again", "broker", b)
			return i
		}
	}
	return -1
}

func exit(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil
	}
	return fmt.Errorf("uplink: %w", ctx.Err())
}
