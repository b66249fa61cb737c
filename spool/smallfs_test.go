package spool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"medagent/spool/spooltest"
	"medagent/telemetry"
)

// TestFullFileSystem runs the spool on a 2 MiB tmpfs that another file
// fills, with max_bytes far above it and no reader acknowledging (the
// uplink is away). Every alarm and event is stored, telemetry is evicted
// and then refused, every loss is reported with its seqs, the reader can
// still persist its cursor on the full file system, and the backlog
// drains once it acknowledges. With ReaderDir apart (the roles as
// different users) the writer deletes what the reader acknowledged.
func TestFullFileSystem(t *testing.T) {
	for _, split := range []bool{false, true} {
		t.Run(map[bool]string{false: "one_dir", true: "reader_dir_apart"}[split], func(t *testing.T) {
			spooltest.RunInSmallFS(t, 2<<20, func(t *testing.T, dir string) { fullFileSystem(t, dir, split) })
		})
	}
}

func fullFileSystem(t *testing.T, dir string, split bool) {
	o := testOpts(t, true)
	o.Dir = filepath.Join(dir, "spool")
	if split {
		o.ReaderDir = filepath.Join(dir, "uplink")
	}
	o.SegmentBytes = 16 << 10
	o.MaxBytes = 64 << 20
	o.ReserveBytes = 256 << 10
	o.CursorInterval = time.Millisecond
	w := mustWriter(t, o)
	defer func() { w.Close() }()
	r := mustReader(t, o) // as the uplink: opened before the disk fills
	defer func() { r.Close() }()
	filler := filepath.Join(dir, "filler")

	ctx := context.Background()
	refused := map[uint64]bool{}
	var alarms, events, tel uint64
	add := func(c telemetry.Class, stream string, n *uint64) {
		t.Helper()
		*n++
		seq, err := w.Append(ctx, c, stream, time.Unix(1700000000, 0).Add(time.Duration(*n)*time.Millisecond), append(payloadFor(c, stream, *n), make([]byte, 300)...))
		switch {
		case err == nil && seq == *n:
		case c == cT && errors.Is(err, ErrNoSpace):
			refused[*n] = true
		default:
			t.Fatalf("%s %s #%d: seq %d, %v", c, stream, *n, seq, err)
		}
	}
	mix := func(n int, refill bool) {
		for i := range n {
			if refill && i%5 == 0 {
				// Another process takes every block freed.
				if _, err := spooltest.Fill(filler, 0); err != nil {
					t.Fatal(err)
				}
			}
			add(cT, "ecg", &tel)
			if i%20 == 0 {
				add(cA, "hr", &alarms)
			}
			if i%30 == 0 {
				add(cE, "lead", &events)
			}
		}
	}
	// Phase 1: 512 KiB left, 3 MiB of telemetry: evicted on ENOSPC.
	if _, err := spooltest.Fill(filler, 512<<10); err != nil {
		t.Fatal(err)
	}
	mix(8000, false)
	s := w.Stats()
	if s.Classes[cT].Evicted == 0 || s.Classes[cA].Evicted+s.Classes[cE].Evicted != 0 {
		t.Fatalf("phase 1: evicted %+v; want telemetry only", s.Classes)
	}
	t.Logf("phase 1: telemetry evicted %d, refused %d, reserve %d", s.Classes[cT].Evicted, s.Classes[cT].Refused, s.ReserveBytes)
	// Phase 2: the file system is full to the last block. Telemetry
	// goes, then is refused; alarms and events live on the reserve.
	mix(2000, true)
	s = w.Stats()
	if len(refused) == 0 || s.Classes[cT].Refused != uint64(len(refused)) || s.ReserveBytes == o.ReserveBytes {
		t.Fatalf("phase 2: refused %d (stats %d), reserve %d of %d: the disk never filled", len(refused), s.Classes[cT].Refused, s.ReserveBytes, o.ReserveBytes)
	}
	t.Logf("phase 2: telemetry evicted %d, refused %d, reserve left %d, alarms %d, events %d", s.Classes[cT].Evicted, len(refused), s.ReserveBytes, alarms, events)

	// The uplink is back: read and acknowledge everything, on the
	// full file system. (The last reports would be stored with the
	// next append after reportEvery.)
	flushReports(t, w)
	got := map[streamKey]map[uint64]bool{}
	var reps []report
	for _, rec := range drainRaw(t, r, 100*time.Millisecond) {
		if isReport(rec) {
			reps = append(reps, reportOf(t, rec))
		} else {
			checkRecord(t, rec)
			k := streamKey{rec.Class, rec.Stream}
			if got[k] == nil {
				got[k] = map[uint64]bool{}
			}
			if got[k][rec.Seq] {
				t.Fatalf("%v seq %d delivered twice", k, rec.Seq)
			}
			got[k][rec.Seq] = true
		}
		if err := r.Ack(rec.ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		k streamKey
		n uint64
	}{{streamKey{cA, "hr"}, alarms}, {streamKey{cE, "lead"}, events}} {
		if uint64(len(got[c.k])) != c.n {
			t.Errorf("%v: %d of %d delivered", c.k, len(got[c.k]), c.n)
		}
	}
	// Telemetry: every seq not delivered is in a reported range, and
	// the reports count every loss. (A range may span seqs that were
	// stored: records says how many in it were lost.)
	type span struct{ first, last uint64 }
	var evictedSpans, refusedSpans []span
	var evictedN, refusedN uint64
	for _, rp := range reps {
		if rp.class != "telemetry" || rp.stream != "ecg" || rp.reason != ReasonDiskFull || rp.records > rp.last-rp.first+1 {
			t.Fatalf("report %+v", rp)
		}
		if rp.cond == CondRefused {
			refusedSpans, refusedN = append(refusedSpans, span{rp.first, rp.last}), refusedN+rp.records
		} else {
			evictedSpans, evictedN = append(evictedSpans, span{rp.first, rp.last}), evictedN+rp.records
		}
	}
	in := func(spans []span, q uint64) bool {
		for _, sp := range spans {
			if sp.first <= q && q <= sp.last {
				return true
			}
		}
		return false
	}
	delivered := got[streamKey{cT, "ecg"}]
	for q := uint64(1); q <= tel; q++ {
		switch {
		case refused[q] && (delivered[q] || !in(refusedSpans, q)):
			t.Fatalf("refused telemetry seq %d: delivered %t, in a refusal report %t", q, delivered[q], in(refusedSpans, q))
		case !refused[q] && !delivered[q] && !in(evictedSpans, q):
			t.Fatalf("telemetry seq %d neither delivered nor reported", q)
		}
	}
	if refusedN != uint64(len(refused)) || evictedN != w.Stats().Classes[cT].Evicted {
		t.Fatalf("reports: %d refused (%d refused appends), %d evicted (%d counted)", refusedN, len(refused), evictedN, w.Stats().Classes[cT].Evicted)
	}
	if uint64(len(delivered))+evictedN+refusedN != tel {
		t.Fatalf("telemetry: %d delivered + %d evicted + %d refused != %d appended", len(delivered), evictedN, refusedN, tel)
	}
	// The cursor was written in place on the full file system: a new
	// reader starts after everything.
	if err := r.Close(); err != nil {
		t.Fatalf("reader close (cursor) on a full file system: %v", err)
	}
	r = mustReader(t, o)
	if more := drainRaw(t, r, 50*time.Millisecond); len(more) != 0 {
		t.Fatalf("%d records again after the cursor was persisted on a full disk", len(more))
	}
	// Room again: the reserve grows back and seqs go on after the
	// refused ones, across a restart.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	time.Sleep(reserveRetry)
	add(cT, "ecg", &tel)
	if s := w.Stats(); s.ReserveBytes != o.ReserveBytes {
		t.Errorf("reserve %d after the disk emptied, want %d", s.ReserveBytes, o.ReserveBytes)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = mustWriter(t, o)
	add(cT, "ecg", &tel)
	t.Logf("telemetry: %d appended, %d delivered, %d evicted, %d refused; %d alarms, %d events delivered; %d reports",
		tel, len(delivered), evictedN, refusedN, alarms, events, len(reps))
}
