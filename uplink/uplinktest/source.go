package uplinktest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"medagent/spool"
	"medagent/telemetry"
)

// Source is an in-memory spool reader. Records come out of Next in the
// order they were appended (the real spool puts alarms first; tests that
// need that order append in it). It is safe for concurrent use.
type Source struct {
	mu      sync.Mutex
	wake    chan struct{} // closed and replaced when something changes
	recs    []spool.Record
	acked   []bool
	cursor  int
	seq     map[string]uint64
	out     map[int]bool // delivered since the last Rewind and not acked
	maxOut  int
	nAcked  int
	rewinds int
	failErr error // returned once by the next Next, then cleared
}

// NewSource returns an empty Source.
func NewSource() *Source {
	return &Source{wake: make(chan struct{}), seq: map[string]uint64{}, out: map[int]bool{}}
}

func (s *Source) notify() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// Append marshals p and adds it with the next sequence number of its
// stream (1, 2, ...). It returns the stored record.
func (s *Source) Append(p telemetry.Pack) spool.Record {
	b, err := p.Marshal()
	if err != nil {
		panic(fmt.Sprintf("uplinktest: %v", err))
	}
	return s.AppendPayload(p.Class, p.Stream, p.Time, b)
}

// AppendPayload adds a record with an arbitrary payload (e.g. one that does
// not decode).
func (s *Source) AppendPayload(class telemetry.Class, stream string, t time.Time, payload []byte) spool.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq[stream]++
	r := spool.Record{
		Class: class, Stream: stream, Seq: s.seq[stream], Time: t, Payload: payload,
		ID: spool.ID{Class: class, Offset: int64(len(s.recs))},
	}
	s.recs = append(s.recs, r)
	s.acked = append(s.acked, false)
	s.notify()
	return r
}

// FailNext makes the next call of Next return err (once).
func (s *Source) FailNext(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failErr = err
	s.notify()
}

// Next returns the next unacked record after the cursor, blocking until
// there is one or ctx is done.
func (s *Source) Next(ctx context.Context) (spool.Record, error) {
	for {
		s.mu.Lock()
		if err := s.failErr; err != nil {
			s.failErr = nil
			s.mu.Unlock()
			return spool.Record{}, err
		}
		for s.cursor < len(s.recs) && s.acked[s.cursor] {
			s.cursor++
		}
		if s.cursor < len(s.recs) {
			i := s.cursor
			s.cursor++
			s.out[i] = true
			s.maxOut = max(s.maxOut, len(s.out))
			r := s.recs[i]
			s.mu.Unlock()
			return r, nil
		}
		wake := s.wake
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return spool.Record{}, ctx.Err()
		case <-wake:
		}
	}
}

// Ack marks a delivered record as sent. Acking an unknown, undelivered or
// already acked record is an error (the uplink must never do it).
func (s *Source) Ack(id spool.ID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := int(id.Offset)
	if i < 0 || i >= len(s.recs) || s.recs[i].ID != id {
		return fmt.Errorf("uplinktest: ack of unknown record %+v", id)
	}
	if s.acked[i] {
		return fmt.Errorf("uplinktest: record %s/%d acked twice", s.recs[i].Stream, s.recs[i].Seq)
	}
	if !s.out[i] {
		return fmt.Errorf("uplinktest: record %s/%d acked but not delivered since the last rewind", s.recs[i].Stream, s.recs[i].Seq)
	}
	s.acked[i] = true
	delete(s.out, i)
	s.nAcked++
	s.notify()
	return nil
}

// Rewind moves the cursor back to the oldest unacked record.
func (s *Source) Rewind() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursor = 0
	clear(s.out)
	s.rewinds++
	s.notify()
	return nil
}

// Stats is a snapshot of what the consumer did.
type Stats struct {
	Appended       int
	Acked          int
	Outstanding    int // delivered since the last Rewind, not acked
	MaxOutstanding int // the most Outstanding ever was
	Rewinds        int
}

// Stats returns a snapshot.
func (s *Source) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Appended: len(s.recs), Acked: s.nAcked, Outstanding: len(s.out), MaxOutstanding: s.maxOut, Rewinds: s.rewinds}
}

// WaitAcked blocks until at least n records are acked or ctx is done.
func (s *Source) WaitAcked(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		got, wake := s.nAcked, s.wake
		s.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("uplinktest: %d of %d records acked: %w", got, n, ctx.Err())
		case <-wake:
		}
	}
}
