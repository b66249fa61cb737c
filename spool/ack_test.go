package spool

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// crashReader drops a reader as a kill -9 would: no cursor write.
func crashReader(r *Reader) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, cr := range r.cls {
		if cr.f != nil {
			cr.f.Close()
		}
	}
	r.lock.Close()
	r.closed = true
}

func nextOne(t testing.TB, r *Reader) Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rec, err := r.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, rec)
	return rec
}

// TestAckCursorCrash acks out of order with an in-flight window, crashes
// the reader, and checks the restarted reader loses nothing and repeats
// only records from the window.
func TestAckCursorCrash(t *testing.T) {
	for _, interval := range []time.Duration{time.Nanosecond, DefaultCursorInterval} {
		t.Run(interval.String(), func(t *testing.T) {
			o := testOpts(t, false)
			o.CursorInterval = interval
			w := mustWriter(t, o)
			defer w.Close()
			for range 300 {
				mustAppend(t, w, cT, "ecg", 30)
			}
			const window = 8
			rng := rand.New(rand.NewPCG(1, 2))
			r := mustReader(t, o)
			acked := map[uint64]bool{}
			var inflight []Record
			ack := func(i int) {
				t.Helper()
				if err := r.Ack(inflight[i].ID); err != nil {
					t.Fatal(err)
				}
				acked[inflight[i].Seq] = true
				inflight = slices.Delete(inflight, i, i+1)
			}
			var maxDelivered uint64
			for range 200 {
				rec := nextOne(t, r)
				maxDelivered = rec.Seq
				inflight = append(inflight, rec)
				if len(inflight) == window {
					// PUBACKs come out of order, but a record is never
					// in flight for more than 2 windows (MQTT resends).
					if maxDelivered-inflight[0].Seq >= 2*window {
						ack(0)
					} else {
						ack(rng.IntN(window))
					}
				}
			}
			if interval > time.Millisecond {
				time.Sleep(interval + 10*time.Millisecond)
				ack(len(inflight) - 1) // an ack after the interval persists
			}
			lowest := inflight[0].Seq // lowest unacked at the crash
			crashReader(r)

			r = mustReader(t, o)
			defer r.Close()
			again := drain(t, r, 20*time.Millisecond)
			if len(again) == 0 || again[0].Seq != lowest {
				t.Fatalf("restart delivered %d records, first %+v; want seq %d first", len(again), again[:min(len(again), 1)], lowest)
			}
			var dup int
			got := map[uint64]bool{}
			for _, rec := range again {
				got[rec.Seq] = true
				if acked[rec.Seq] {
					dup++
					if rec.Seq <= lowest || rec.Seq > maxDelivered {
						t.Errorf("acked seq %d outside the in-flight span (%d, %d] delivered again", rec.Seq, lowest, maxDelivered)
					}
				}
			}
			for s := uint64(1); s <= 300; s++ {
				if !acked[s] && !got[s] {
					t.Fatalf("seq %d lost: neither acked before the crash nor delivered after", s)
				}
			}
			if dup > 2*window {
				t.Fatalf("%d acked records delivered again, more than the in-flight span of %d", dup, 2*window)
			}
			t.Logf("%d duplicates after crash", dup)
		})
	}
}

func TestCloseResumesAtLowestUnacked(t *testing.T) {
	o := testOpts(t, true)
	w := mustWriter(t, o)
	defer w.Close()
	for range 50 {
		mustAppend(t, w, cE, "lead-off", 0)
	}
	r := mustReader(t, o)
	var recs []Record
	for range 20 {
		recs = append(recs, nextOne(t, r))
	}
	for _, rec := range recs[:10] {
		if err := r.Ack(rec.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Ack(recs[15].ID); err != nil { // out of order
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r = mustReader(t, o)
	defer r.Close()
	if rec := nextOne(t, r); rec.Seq != 11 {
		t.Fatalf("resumed at seq %d, want 11", rec.Seq)
	}
}

func TestRewind(t *testing.T) {
	o := testOpts(t, false)
	w := mustWriter(t, o)
	defer w.Close()
	for range 10 {
		mustAppend(t, w, cT, "ecg", 0)
	}
	r := mustReader(t, o)
	defer r.Close()
	var recs []Record
	for range 5 {
		recs = append(recs, nextOne(t, r))
	}
	for _, i := range []int{1, 3} {
		if err := r.Ack(recs[i].ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Rewind(); err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, rec := range drain(t, r, 20*time.Millisecond) {
		seqs = append(seqs, rec.Seq)
		// A late ack of a record from before the Rewind is fine.
		if err := r.Ack(rec.ID); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]uint64{1, 3, 5, 6, 7, 8, 9, 10}, seqs); diff != "" {
		t.Fatalf("after rewind (-want +got):\n%s", diff)
	}
	if err := r.Ack(recs[0].ID); err != nil {
		t.Fatalf("duplicate ack: %v", err)
	}
	if err := r.Rewind(); err != nil {
		t.Fatal(err)
	}
	if recs := drain(t, r, 20*time.Millisecond); len(recs) != 0 {
		t.Fatalf("everything acked, yet %d records after rewind", len(recs))
	}
	// A PUBACK that arrives after the Rewind for a record sent before it.
	for range 3 {
		mustAppend(t, w, cT, "ecg", 0)
	}
	late := []Record{nextOne(t, r), nextOne(t, r)}
	if err := r.Rewind(); err != nil {
		t.Fatal(err)
	}
	if err := r.Ack(late[1].ID); err != nil {
		t.Fatalf("late ack after Rewind: %v", err)
	}
	seqs = nil
	for _, rec := range drain(t, r, 20*time.Millisecond) {
		seqs = append(seqs, rec.Seq)
		if err := r.Ack(rec.ID); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]uint64{11, 13}, seqs); diff != "" {
		t.Fatalf("after a late ack and rewind (-want +got):\n%s", diff)
	}
	mustAppend(t, w, cT, "ecg", 0)
	next := nextOne(t, r)
	bogus := next.ID
	bogus.Offset += 1000
	if err := r.Ack(bogus); err == nil || !strings.Contains(err.Error(), "not delivered") {
		t.Fatalf("ack of an undelivered record: %v", err)
	}
	bogus.Class = 9
	if err := r.Ack(bogus); err == nil {
		t.Fatal("ack with an unknown class accepted")
	}
}

func TestStats(t *testing.T) {
	o := testOpts(t, true)
	w := mustWriter(t, o)
	defer w.Close()
	var alarmBytes int64
	for range 3 {
		mustAppend(t, w, cA, "hr-high", 10)
		alarmBytes += int64(frameLen(len("hr-high"), len(payloadFor(cA, "hr-high", 1))+10, true))
	}
	for range 5 {
		mustAppend(t, w, cT, "ecg", 10)
	}
	s := w.Stats()
	ca := s.Classes[cA]
	if ca.Pending != 3 || ca.PendingBytes != alarmBytes || !ca.Oldest.Equal(time.Unix(1700000000, 1)) || ca.OldestApprox {
		t.Fatalf("alarm stats %+v (want 3 pending, %d bytes)", ca, alarmBytes)
	}
	if s.Classes[cT].Pending != 5 || s.Classes[cE].Pending != 0 || !s.Classes[cE].Oldest.IsZero() {
		t.Fatalf("class stats %+v", s.Classes)
	}
	if s.Appends != 8 || s.Fsyncs == 0 || !s.Encrypted || s.DiskBytes == 0 {
		t.Fatalf("stats %+v", s)
	}
	off, err := ReadStats(o.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if oa := off.Classes[cA]; oa.Pending != 3 || !oa.OldestApprox || oa.Oldest.IsZero() || off.DiskBytes != s.DiskBytes {
		t.Fatalf("offline stats %+v", off)
	}
	r := mustReader(t, o)
	defer r.Close()
	if err := r.Ack(nextOne(t, r).ID); err != nil {
		t.Fatal(err)
	}
	if ra := r.Stats().Classes[cA]; ra.Pending != 2 || !ra.Oldest.Equal(time.Unix(1700000000, 2)) {
		t.Fatalf("reader stats after one ack %+v", ra)
	}
	if _, err := ReadStats(t.TempDir() + "/missing"); err == nil {
		t.Fatal("ReadStats of a missing dir succeeded")
	}
}

func TestInFlightBound(t *testing.T) {
	defer func(n int) { maxInFlight = n }(maxInFlight)
	maxInFlight = 4
	o := testOpts(t, false)
	w := mustWriter(t, o)
	defer w.Close()
	for range 6 {
		mustAppend(t, w, cT, "ecg", 0)
	}
	r := mustReader(t, o)
	defer r.Close()
	var recs []Record
	for range 4 {
		recs = append(recs, nextOne(t, r))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := r.Next(ctx); err == nil || !strings.Contains(err.Error(), "not acknowledged") {
		t.Fatalf("Next beyond the in-flight bound: %v", err)
	}
	if err := r.Ack(recs[0].ID); err != nil {
		t.Fatal(err)
	}
	if rec := nextOne(t, r); rec.Seq != 5 {
		t.Fatalf("after an ack: seq %d", rec.Seq)
	}
}
