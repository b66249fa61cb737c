package spool

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
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
		flushReports(t, w)
		s := w.Stats()
		if s.DiskBytes > o.MaxBytes {
			t.Fatalf("disk bytes %d over max %d", s.DiskBytes, o.MaxBytes)
		}
		ev := s.Classes[cT].Evicted
		if ev == 0 || s.Classes[cE].Evicted != 0 || s.Classes[cA].Evicted != 0 {
			t.Fatalf("phase 1 evictions: %+v", s.Classes)
		}
		r := mustReader(t, o)
		all := drainRaw(t, r, 20*time.Millisecond)
		// Every eviction is reported: the ranges cover exactly 1..ev.
		reports := reportsIn(t, all)
		var covered []uint64
		for _, rp := range reports {
			// Nothing was acknowledged: the ranges are whole.
			if rp.cond != CondEvicted || rp.reason != ReasonMaxBytes || rp.class != "telemetry" || rp.stream != "ecg" || rp.last-rp.first+1 != rp.records {
				t.Fatalf("phase 1 report %+v", rp)
			}
			covered = append(covered, seqRange(rp.first, rp.last)...)
		}
		if diff := cmp.Diff(seqRange(1, ev), covered); diff != "" {
			t.Fatalf("phase 1 reported evictions (-want +got):\n%s", diff)
		}
		var recs []Record
		for _, rec := range all {
			if !isReport(rec) {
				checkRecord(t, rec)
				recs = append(recs, rec)
			}
		}
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
		// The events evicted are the 3 of the test and the reports
		// stored so far, less those still in the spool.
		w.mu.Lock()
		nReports := w.logs[classIndex(cE)].seqs[ReportStream]
		w.mu.Unlock()
		if wantE := 3 + nReports - s.Classes[cE].Pending; s.Classes[cT].Evicted != 300 || s.Classes[cE].Evicted != wantE {
			t.Fatalf("phase 2: telemetry evicted %d (want 300), events %d (want %d)", s.Classes[cT].Evicted, s.Classes[cE].Evicted, wantE)
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
		w.mu.Lock()
		err := w.flushReports() // the last losses, without waiting reportEvery
		w.mu.Unlock()
		done <- err
	}()
	last := map[streamKey]uint64{}
	delivered := map[telemetry.Class]uint64{}
	got := map[string]map[uint64]bool{"ecg": {}, "spo2": {}}
	type span struct{ first, last uint64 }
	reported := map[string][]span{}
	var reportedN uint64
	var writerDone bool
	writerEnded := func() {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			writerDone = true
		default:
		}
	}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		rec, err := r.Next(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			// Idle: stop once the writer has ended and a whole poll found
			// nothing after that. The writer may end while we wait, after
			// its last record was delivered, so look at done here too.
			if writerDone {
				break
			}
			writerEnded()
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v (last %v)", err, last)
		}
		writerEnded()
		if isReport(rec) {
			rp := reportOf(t, rec)
			if rp.cond != CondEvicted || rp.class != "telemetry" || rp.records > rp.last-rp.first+1 {
				t.Fatalf("report %+v", rp)
			}
			reported[rp.stream] = append(reported[rp.stream], span{rp.first, rp.last})
			reportedN += rp.records
			if err := r.Ack(rec.ID); err != nil {
				t.Fatal(err)
			}
			continue
		}
		checkRecord(t, rec)
		if rec.Class == cT {
			got[rec.Stream][rec.Seq] = true
			// A segment is unlinked before its loss is reported, and a
			// reader delivers nothing more from an unlinked segment.
			for _, sp := range reported[rec.Stream] {
				if sp.first <= rec.Seq && rec.Seq <= sp.last {
					t.Fatalf("%s seq %d delivered after a report counted it evicted (%d-%d)", rec.Stream, rec.Seq, sp.first, sp.last)
				}
			}
		}
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
	if !writerDone {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	s := w.Stats()
	// Every seq not delivered is in a reported range of its stream, and
	// the reports count every eviction.
	for st, seqs := range got {
		for q := uint64(1); q <= n; q++ {
			in := false
			for _, sp := range reported[st] {
				in = in || sp.first <= q && q <= sp.last
			}
			if !seqs[q] && !in {
				t.Fatalf("%s seq %d neither delivered nor reported evicted", st, q)
			}
		}
	}
	if reportedN != s.Classes[cT].Evicted || last[streamKey{cA, "apnea"}] != n/50 {
		t.Fatalf("reported %d evictions, counted %d; alarms up to %d of %d", reportedN, s.Classes[cT].Evicted, last[streamKey{cA, "apnea"}], n/50)
	}
	// Counted evictions may include records delivered before their
	// segment was unlinked whose acknowledgement had not reached the disk
	// (the cursor is persisted every CursorInterval): how many depends on
	// how the reader is scheduled, so only the lower bound is certain
	// here; the check above and TestEvictedUnderReader pin the rest.
	overlap := int64(delivered[cT]+s.Classes[cT].Evicted) - 2*n
	if overlap < 0 {
		t.Fatalf("telemetry: %d delivered + %d evicted < %d appended: silent loss", delivered[cT], s.Classes[cT].Evicted, 2*n)
	}
	if s.Classes[cA].Evicted != 0 {
		t.Fatalf("alarms evicted: %d", s.Classes[cA].Evicted)
	}
	t.Logf("delivered %v, evicted telemetry %d, of which %d had been delivered", delivered, s.Classes[cT].Evicted, overlap)
}

// TestEvictedUnderReader evicts the segment a reader is in the middle of:
// the reader delivers nothing more from it (the writer counted the rest as
// lost), so delivered plus evicted is exactly what was appended, and the
// loss report covers exactly the records not delivered.
func TestEvictedUnderReader(t *testing.T) {
	for _, apart := range []bool{false, true} {
		t.Run(map[bool]string{false: "same-dir", true: "reader-dir-apart"}[apart], func(t *testing.T) {
			o := testOpts(t, true)
			o.MaxBytes = 4 * o.SegmentBytes
			if apart {
				o.ReaderDir = filepath.Join(t.TempDir(), "reader")
			}
			w := mustWriter(t, o)
			defer w.Close()
			r := mustReader(t, o)
			defer r.Close()
			appended := uint64(0)
			for range 10 { // within the first segment
				appended = mustAppend(t, w, cT, "ecg", 100)
			}
			w.mu.Lock()
			first := w.logs[classIndex(cT)].segs[0].num
			w.mu.Unlock()
			var delivered []uint64
			for range 4 {
				rec := nextOne(t, r)
				delivered = append(delivered, rec.Seq)
				if err := r.Ack(rec.ID); err != nil {
					t.Fatal(err)
				}
			}
			r.mu.Lock()
			err := r.persist(true)
			r.mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			for w.Stats().Classes[cT].Evicted == 0 {
				appended = mustAppend(t, w, cT, "ecg", 100)
			}
			w.mu.Lock()
			if w.logs[classIndex(cT)].segs[0].num == first {
				t.Fatalf("segment %d not evicted", first)
			}
			err = w.flushReports()
			w.mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			evicted := w.Stats().Classes[cT].Evicted
			var reports []report
			for len(delivered) == 0 || delivered[len(delivered)-1] != appended {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				rec, err := r.Next(ctx) // events (the report) come before telemetry
				cancel()
				if err != nil {
					t.Fatal(err)
				}
				if isReport(rec) {
					reports = append(reports, reportOf(t, rec))
					continue
				}
				checkRecord(t, rec)
				delivered = append(delivered, rec.Seq)
			}
			if uint64(len(delivered))+evicted != appended {
				t.Fatalf("%d delivered + %d evicted != %d appended (delivered %v)", len(delivered), evicted, appended, delivered)
			}
			if len(reports) != 1 || reports[0].first != 5 || reports[0].last != evicted+4 || reports[0].records != evicted {
				t.Fatalf("reports %+v, want one of seqs 5-%d (%d records)", reports, evicted+4, evicted)
			}
			if want := append(seqRange(1, 4), seqRange(evicted+5, appended)...); !slices.Equal(delivered, want) {
				t.Fatalf("delivered %v, want %v", delivered, want)
			}
		})
	}
}
