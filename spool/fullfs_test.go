package spool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// telemetryFull makes every write to a telemetry segment fail with ENOSPC
// after writing half the frame (the disk filled mid-frame).
func telemetryFull(f *os.File, b []byte, off int64) (int, error) {
	if !strings.Contains(f.Name(), string(filepath.Separator)+"telemetry"+string(filepath.Separator)) {
		return f.WriteAt(b, off)
	}
	n, _ := f.WriteAt(b[:len(b)/2], off)
	return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

// TestENOSPCLeavesNoPartialFrame: a telemetry record the file system
// refuses, with no older telemetry left to evict, leaves no partial frame,
// consumes its seq and is reported; the eviction that was tried first is
// reported too.
func TestENOSPCLeavesNoPartialFrame(t *testing.T) {
	o := testOpts(t, false)
	w := mustWriter(t, o)
	defer w.Close()
	mustAppend(t, w, cT, "ecg", 10)
	cl := w.logs[classIndex(cT)]
	w.writeAt = telemetryFull
	_, err := w.Append(context.Background(), cT, "ecg", time.Unix(1700000000, 2), []byte("lost"))
	if !errors.Is(err, ErrNoSpace) || !strings.Contains(err.Error(), cl.dir) || !strings.Contains(err.Error(), "seq 2") {
		t.Fatalf("err = %v; want ErrNoSpace naming %s and seq 2", err, cl.dir)
	}
	if fi, _ := cl.f.Stat(); fi.Size() != cl.size {
		t.Fatalf("active segment is %d bytes on disk, %d written: a partial frame was left", fi.Size(), cl.size)
	}
	w.writeAt = (*os.File).WriteAt
	if seq := mustAppend(t, w, cT, "ecg", 10); seq != 3 {
		t.Fatalf("seq after a refused record %d, want 3 (2 is skipped)", seq)
	}
	s := w.Stats()
	if s.Classes[cT].Refused != 1 || s.Classes[cT].Evicted != 1 || s.UnreportedLosses != 0 {
		t.Fatalf("refused %d evicted %d unreported %d; want 1, 1, 0", s.Classes[cT].Refused, s.Classes[cT].Evicted, s.UnreportedLosses)
	}
	r := mustReader(t, o)
	defer r.Close()
	all := drainRaw(t, r, 30*time.Millisecond)
	if diff := cmp.Diff(map[streamKey][]uint64{{cT, "ecg"}: {3}}, seqsByStream(drainData(t, all))); diff != "" {
		t.Fatalf("records (-want +got):\n%s", diff)
	}
	want := []report{
		{cond: CondEvicted, reason: ReasonDiskFull, class: "telemetry", stream: "ecg", first: 1, last: 1, records: 1, from: time.Unix(1700000000, 1)},
		{cond: CondRefused, reason: ReasonDiskFull, class: "telemetry", stream: "ecg", first: 2, last: 2, records: 1, from: time.Unix(1700000000, 2)},
	}
	if diff := cmp.Diff(want, reportsIn(t, all), cmp.AllowUnexported(report{})); diff != "" {
		t.Fatalf("reports (-want +got):\n%s", diff)
	}
	if s := r.Stats(); s.CorruptFrames != 0 || s.DamagedSpans != 0 {
		t.Fatalf("corrupt %d damaged %d", s.CorruptFrames, s.DamagedSpans)
	}
}

// drainData checks and returns the records that are not loss reports.
func drainData(t testing.TB, recs []Record) []Record {
	t.Helper()
	var out []Record
	for _, rec := range recs {
		if !isReport(rec) {
			checkRecord(t, rec)
			out = append(out, rec)
		}
	}
	return out
}

// TestRefusedSeqSurvivesRestart: the seq of a refused record stays
// consumed after a restart, and a report that could not be stored before
// the restart is stored after it, once.
func TestRefusedSeqSurvivesRestart(t *testing.T) {
	forBoth(t, func(t *testing.T, enc bool) {
		o := testOpts(t, enc)
		w := mustWriter(t, o)
		mustAppend(t, w, cA, "hr", 10)
		// Nothing can be stored: not the alarm, not its report. The
		// oldest alarm is evicted in the attempt (as at max_bytes).
		w.writeAt = func(f *os.File, b []byte, off int64) (int, error) {
			return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
		}
		w.res.release(o.ReserveBytes)
		_, err := w.Append(context.Background(), cA, "hr", time.Unix(1700000000, 2), []byte("lost"))
		if !errors.Is(err, ErrNoSpace) {
			t.Fatalf("err = %v, want ErrNoSpace", err)
		}
		if s := w.Stats(); s.UnreportedLosses != 2 || s.Classes[cA].Refused != 1 || s.Classes[cA].Evicted != 1 {
			t.Fatalf("unreported %d refused %d evicted %d, want 2, 1, 1", s.UnreportedLosses, s.Classes[cA].Refused, s.Classes[cA].Evicted)
		}
		w.writeAt = (*os.File).WriteAt
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		w = mustWriter(t, o)
		defer w.Close()
		if seq := mustAppend(t, w, cA, "hr", 10); seq != 3 {
			t.Fatalf("alarm seq after restart %d, want 3", seq)
		}
		mustAppend(t, w, cA, "hr", 10)
		r := mustReader(t, o)
		defer r.Close()
		all := drainRaw(t, r, 30*time.Millisecond)
		want := []report{
			{cond: CondEvicted, reason: ReasonDiskFull, class: "alarms", stream: "hr", first: 1, last: 1, records: 1, from: time.Unix(1700000000, 1)},
			{cond: CondRefused, reason: ReasonDiskFull, class: "alarms", stream: "hr", first: 2, last: 2, records: 1, from: time.Unix(1700000000, 2)},
		}
		if diff := cmp.Diff(want, reportsIn(t, all), cmp.AllowUnexported(report{})); diff != "" {
			t.Fatalf("reports (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[streamKey][]uint64{{cA, "hr"}: {3, 4}}, seqsByStream(drainData(t, all))); diff != "" {
			t.Fatalf("records (-want +got):\n%s", diff)
		}
		// Superseded and reported: the refusal is forgotten by the next
		// state write, and a restart does not report it again.
		w.Close()
		w = mustWriter(t, o)
		mustAppend(t, w, cA, "hr", 10)
		if more := reportsIn(t, drainRaw(t, r, 30*time.Millisecond)); len(more) != 0 {
			t.Fatalf("reported again after a restart: %+v", more)
		}
	})
}

// TestAlarmUsesReserve: with the file system full and no telemetry to
// evict, an alarm is stored by shrinking the reserve, and the reserve
// grows back once there is room.
func TestAlarmUsesReserve(t *testing.T) {
	o := testOpts(t, true)
	o.ReserveBytes = 4 * reserveChunk
	w := mustWriter(t, o)
	defer w.Close()
	if s := w.Stats(); s.ReserveBytes != o.ReserveBytes {
		t.Fatalf("reserve %d bytes, want %d", s.ReserveBytes, o.ReserveBytes)
	}
	// The disk is full until the reserve gives space back.
	w.writeAt = func(f *os.File, b []byte, off int64) (int, error) {
		if w.res.size == o.ReserveBytes {
			return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
		}
		return f.WriteAt(b, off)
	}
	if seq := mustAppend(t, w, cA, "hr", 100); seq != 1 {
		t.Fatalf("seq %d", seq)
	}
	if s := w.Stats(); s.ReserveBytes != o.ReserveBytes-w.res.block || s.Classes[cA].Refused != 0 {
		t.Fatalf("after the alarm: reserve %d (want %d), refused %d", s.ReserveBytes, o.ReserveBytes-w.res.block, s.Classes[cA].Refused)
	}
	w.mu.Lock()
	w.writeAt = (*os.File).WriteAt // room again
	w.res.lastTry = time.Time{}    // and the retry is due
	w.mu.Unlock()
	mustAppend(t, w, cT, "ecg", 10)
	if s := w.Stats(); s.ReserveBytes != o.ReserveBytes {
		t.Fatalf("reserve %d after room came back, want %d", s.ReserveBytes, o.ReserveBytes)
	}
	fi, err := os.Stat(filepath.Join(o.Dir, reserveFile))
	if err != nil || allocated(fi) < o.ReserveBytes {
		t.Fatalf("reserve file: %v allocated %d", err, allocated(fi))
	}
}
