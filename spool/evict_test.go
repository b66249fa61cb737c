package spool

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"medagent/telemetry"
)

func tailFrom(last, n uint64) []uint64 { return seqRange(last-n+1, last) }

// TestEvictionOrder fills a small spool: telemetry goes first, then
// events, then the oldest alarms; new alarms are never refused; every
// eviction is counted.
func TestEvictionOrder(t *testing.T) {
	forBoth(t, func(t *testing.T, enc bool) {
		o := testOpts(t, enc)
		o.MaxBytes = 4 * o.SegmentBytes
		w := mustWriter(t, o)
		defer w.Close()
		for range 3 {
			mustAppend(t, w, cA, "hr-high", 100)
			mustAppend(t, w, cE, "lead-off", 100)
		}
		for range 300 {
			mustAppend(t, w, cT, "ecg", 100)
		}
		s := w.Stats()
		if s.DiskBytes > o.MaxBytes {
			t.Fatalf("disk bytes %d over max %d", s.DiskBytes, o.MaxBytes)
		}
		ev := s.Classes[cT].Evicted
		if ev == 0 || s.Classes[cE].Evicted != 0 || s.Classes[cA].Evicted != 0 {
			t.Fatalf("phase 1 evictions: %+v", s.Classes)
		}
		r := mustReader(t, o)
		recs := drain(t, r, 20*time.Millisecond)
		want := map[streamKey][]uint64{
			{cA, "hr-high"}: {1, 2, 3}, {cE, "lead-off"}: {1, 2, 3},
			{cT, "ecg"}: tailFrom(300, 300-ev),
		}
		if diff := cmp.Diff(want, seqsByStream(recs)); diff != "" {
			t.Fatalf("phase 1 records (-want +got):\n%s", diff)
		}
		if got := s.Classes[cT].Pending; got != 300-ev {
			t.Fatalf("pending telemetry %d, want %d", got, 300-ev)
		}
		r.Close() // nothing acked: the next reader starts over

		// Phase 2: an alarm storm. Telemetry, then events, then old
		// alarms make room; no alarm is refused.
		for range 300 {
			mustAppend(t, w, cA, "hr-high", 100)
		}
		s = w.Stats()
		if s.Classes[cT].Evicted != 300 || s.Classes[cE].Evicted != 3 {
			t.Fatalf("phase 2: telemetry evicted %d (want 300), events %d (want 3)", s.Classes[cT].Evicted, s.Classes[cE].Evicted)
		}
		evA := s.Classes[cA].Evicted
		if evA == 0 {
			t.Fatal("phase 2: no alarm evicted although the spool holds fewer than 303 alarms")
		}
		r = mustReader(t, o)
		defer r.Close()
		recs = drain(t, r, 20*time.Millisecond)
		if diff := cmp.Diff(map[streamKey][]uint64{{cA, "hr-high"}: tailFrom(303, 303-evA)}, seqsByStream(recs)); diff != "" {
			t.Fatalf("phase 2 records (-want +got):\n%s", diff)
		}
		// Counters survive a restart.
		w.Close()
		if rs, err := ReadStats(o.Dir); err != nil || rs.Classes[cT].Evicted != 300 || rs.Classes[cA].Evicted != evA {
			t.Fatalf("ReadStats after close: %+v, %v", rs.Classes, err)
		}
		w = mustWriter(t, o)
		if seq := mustAppend(t, w, cT, "ecg", 0); seq != 301 {
			t.Fatalf("telemetry seq after total eviction %d, want 301", seq)
		}
	})
}

// TestTailingWithEvictionAndAckDeletion runs a writer and a reader
// concurrently on a spool too small for the backlog: per-stream seqs only
// increase, alarms are complete, and every record is either delivered or
// counted as evicted.
func TestTailingWithEvictionAndAckDeletion(t *testing.T) {
	o := testOpts(t, true)
	o.MaxBytes = 4 * o.SegmentBytes
	o.CursorInterval = time.Millisecond
	w := mustWriter(t, o)
	defer w.Close()
	r := mustReader(t, o)
	defer r.Close()
	const n = 1500
	done := make(chan error, 1)
	go func() {
		for i := range n {
			for _, s := range []string{"ecg", "spo2"} {
				if _, err := w.Append(context.Background(), cT, s, time.Now(), append(payloadFor(cT, s, uint64(i+1)), make([]byte, 60)...)); err != nil {
					done <- err
					return
				}
			}
			if i%50 == 0 {
				if _, err := w.Append(context.Background(), cA, "apnea", time.Now(), payloadFor(cA, "apnea", uint64(i/50+1))); err != nil {
					done <- err
					return
				}
			}
		}
		done <- nil
	}()
	last := map[streamKey]uint64{}
	delivered := map[telemetry.Class]uint64{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for last[streamKey{cT, "ecg"}] < n || last[streamKey{cT, "spo2"}] < n || last[streamKey{cA, "apnea"}] < n/50 {
		rec, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("Next: %v (last %v)", err, last)
		}
		checkRecord(t, rec)
		k := streamKey{rec.Class, rec.Stream}
		if rec.Seq <= last[k] {
			t.Fatalf("%v: seq %d after %d", k, rec.Seq, last[k])
		}
		if rec.Class == cA && rec.Seq != last[k]+1 {
			t.Fatalf("alarm gap: %d after %d", rec.Seq, last[k])
		}
		last[k] = rec.Seq
		delivered[rec.Class]++
		if delivered[rec.Class]%7 == 0 {
			time.Sleep(time.Millisecond) // let the writer run ahead
		}
		if err := r.Ack(rec.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s := w.Stats()
	if got := delivered[cT] + s.Classes[cT].Evicted; got < 2*n {
		t.Fatalf("telemetry: %d delivered + %d evicted < %d appended: silent loss", delivered[cT], s.Classes[cT].Evicted, 2*n)
	}
	if s.Classes[cA].Evicted != 0 {
		t.Fatalf("alarms evicted: %d", s.Classes[cA].Evicted)
	}
	t.Logf("delivered %v, evicted telemetry %d", delivered, s.Classes[cT].Evicted)
}
