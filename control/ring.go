package control

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Ring is a slog.Handler that keeps the most recent records in a bounded
// in-memory ring (for `medagent logs`) and passes every record on to the
// handler it wraps. Install it as the agent's root handler:
//
//	log := slog.New(control.NewRing(slog.NewTextHandler(os.Stderr, nil), 2000))
//
// The agent finds the ring from its logger's handler.
type Ring struct {
	next   slog.Handler
	core   *ringCore
	prefix string      // group prefix for attributes added later
	attrs  []slog.Attr // from WithAttrs, already prefixed
}

type ringCore struct {
	mu   sync.Mutex
	buf  []LogRecord
	head int // index of the oldest record when full
	full bool
	subs map[chan LogRecord]struct{}
}

// subscriberQueue bounds what waits for one `logs -f` client; a slow
// client misses records rather than slowing the agent.
const subscriberQueue = 256

// NewRing wraps next and keeps the last size records (at least 1).
func NewRing(next slog.Handler, size int) *Ring {
	if size < 1 {
		size = 1
	}
	return &Ring{next: next, core: &ringCore{buf: make([]LogRecord, 0, size), subs: map[chan LogRecord]struct{}{}}}
}

// Enabled reports whether the wrapped handler wants the level.
func (r *Ring) Enabled(ctx context.Context, l slog.Level) bool { return r.next.Enabled(ctx, l) }

// Handle keeps the record and passes it on.
func (r *Ring) Handle(ctx context.Context, rec slog.Record) error {
	lr := LogRecord{Time: rec.Time.UTC(), Level: rec.Level.String(), Msg: rec.Message}
	if len(r.attrs) > 0 || rec.NumAttrs() > 0 {
		lr.Attrs = make(map[string]string, len(r.attrs)+rec.NumAttrs())
		for _, a := range r.attrs {
			flatten(lr.Attrs, "", a)
		}
		rec.Attrs(func(a slog.Attr) bool {
			flatten(lr.Attrs, r.prefix, a)
			return true
		})
	}
	r.core.add(lr)
	return r.next.Handle(ctx, rec)
}

// WithAttrs returns a handler sharing the ring.
func (r *Ring) WithAttrs(as []slog.Attr) slog.Handler {
	n := *r
	n.next = r.next.WithAttrs(as)
	n.attrs = append([]slog.Attr(nil), r.attrs...)
	for _, a := range as {
		if r.prefix != "" {
			a.Key = r.prefix + a.Key
		}
		n.attrs = append(n.attrs, a)
	}
	return &n
}

// WithGroup returns a handler sharing the ring.
func (r *Ring) WithGroup(name string) slog.Handler {
	if name == "" {
		return r
	}
	n := *r
	n.next = r.next.WithGroup(name)
	n.prefix = r.prefix + name + "."
	return &n
}

func flatten(m map[string]string, prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			flatten(m, p, g)
		}
		return
	}
	if a.Key == "" {
		return
	}
	s := v.String()
	if v.Kind() == slog.KindTime {
		s = v.Time().UTC().Format(time.RFC3339Nano)
	}
	m[prefix+a.Key] = strings.ToValidUTF8(s, "?")
}

func (c *ringCore) add(lr LogRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.buf) < cap(c.buf) {
		c.buf = append(c.buf, lr)
	} else {
		c.buf[c.head] = lr
		c.head = (c.head + 1) % len(c.buf)
		c.full = true
	}
	for ch := range c.subs {
		select {
		case ch <- lr:
		default: // slow reader: it misses this record
		}
	}
}

// Records returns the kept records at or after since (all when since is
// zero), oldest first.
func (r *Ring) Records(since time.Time) []LogRecord {
	c := r.core
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snapshot(since)
}

func (c *ringCore) snapshot(since time.Time) []LogRecord {
	out := make([]LogRecord, 0, len(c.buf))
	for i := range c.buf {
		lr := c.buf[(c.head+i)%len(c.buf)]
		if !lr.Time.Before(since) {
			out = append(out, lr)
		}
	}
	return out
}

// Follow returns the kept records at or after since and a channel of the
// records that come after them, with no gap and no duplicate. cancel must
// be called to stop following.
func (r *Ring) Follow(since time.Time) (backlog []LogRecord, next <-chan LogRecord, cancel func()) {
	c := r.core
	ch := make(chan LogRecord, subscriberQueue)
	c.mu.Lock()
	backlog = c.snapshot(since)
	c.subs[ch] = struct{}{}
	c.mu.Unlock()
	return backlog, ch, func() {
		c.mu.Lock()
		delete(c.subs, ch)
		c.mu.Unlock()
	}
}
