package uplinktest

import (
	"context"
	"strings"
	"testing"
	"time"

	"medagent/telemetry"
)

func pack(i int) telemetry.Pack {
	return telemetry.Pack{Stream: "s", Class: telemetry.ClassTelemetry, Time: time.Unix(int64(i), 0),
		Records: []telemetry.Record{{Name: "X", Value: telemetry.V(float64(i))}}}
}

func TestSource(t *testing.T) {
	ctx := t.Context()
	s := NewSource()
	for i := range 4 {
		if r := s.Append(pack(i)); r.Seq != uint64(i+1) {
			t.Fatalf("seq %d, want %d", r.Seq, i+1)
		}
	}
	next := func() uint64 {
		t.Helper()
		r, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return r.Seq
	}
	r1, _ := s.Next(ctx)
	r2, _ := s.Next(ctx)
	if r1.Seq != 1 || r2.Seq != 2 {
		t.Fatalf("got %d %d", r1.Seq, r2.Seq)
	}
	if err := s.Ack(r2.ID); err != nil { // out of order is allowed
		t.Fatal(err)
	}
	if err := s.Ack(r2.ID); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("double ack: %v", err)
	}
	if st := s.Stats(); st.Outstanding != 1 || st.MaxOutstanding != 2 || st.Acked != 1 {
		t.Errorf("stats = %+v", st)
	}
	if err := s.Rewind(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(r1.ID); err == nil {
		t.Error("ack of a record not delivered since the rewind was accepted")
	}
	// After the rewind: 1 again, 2 skipped (acked), then 3, 4.
	for _, want := range []uint64{1, 3, 4} {
		if got := next(); got != want {
			t.Fatalf("after rewind got %d, want %d", got, want)
		}
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := s.Next(short); err == nil {
		t.Error("Next on an empty source did not block until the deadline")
	}
	go func() { time.Sleep(10 * time.Millisecond); s.Append(pack(5)) }()
	if got := next(); got != 5 {
		t.Errorf("Next after a late append got %d", got)
	}
	s.FailNext(context.DeadlineExceeded)
	if _, err := s.Next(ctx); err != context.DeadlineExceeded {
		t.Errorf("FailNext: %v", err)
	}
}
