package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"medagent/telemetry"
)

const (
	cT = telemetry.ClassTelemetry
	cE = telemetry.ClassEvent
	cA = telemetry.ClassAlarm
)

var testKey = bytes.Repeat([]byte{0x42}, 32)

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(b []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(b, "\n")))
	return len(b), nil
}

func testOpts(t testing.TB, enc bool) Options {
	o := Options{
		Dir:          t.TempDir(),
		SegmentBytes: 4096,
		MaxBytes:     1 << 20,
		PollInterval: 2 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(tlogWriter{t}, nil)),
	}
	if enc {
		o.Key = testKey
	}
	return o
}

func forBoth(t *testing.T, fn func(t *testing.T, enc bool)) {
	t.Run("plain", func(t *testing.T) { fn(t, false) })
	t.Run("aes", func(t *testing.T) { fn(t, true) })
}

func mustWriter(t testing.TB, o Options) *Writer {
	t.Helper()
	w, err := OpenWriter(o)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func mustReader(t testing.TB, o Options) *Reader {
	t.Helper()
	r, err := OpenReader(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func payloadFor(class telemetry.Class, stream string, seq uint64) []byte {
	return fmt.Appendf(nil, "%d/%s/%d/", class, stream, seq)
}

func mustAppend(t testing.TB, w *Writer, class telemetry.Class, stream string, pad int) uint64 {
	t.Helper()
	w.mu.Lock()
	next := w.logs[classIndex(class)].seqs[stream] + 1
	w.mu.Unlock()
	p := append(payloadFor(class, stream, next), bytes.Repeat([]byte{'.'}, pad)...)
	seq, err := w.Append(context.Background(), class, stream, time.Unix(1700000000, int64(next)), p)
	if err != nil {
		t.Fatal(err)
	}
	if seq != next {
		t.Fatalf("%s/%s: seq %d, want %d", class, stream, seq, next)
	}
	return seq
}

// checkRecord verifies a record's payload matches its class/stream/seq.
func checkRecord(t testing.TB, rec Record) {
	t.Helper()
	if !bytes.HasPrefix(rec.Payload, payloadFor(rec.Class, rec.Stream, rec.Seq)) {
		t.Fatalf("record %s/%s/%d has payload %q", rec.Class, rec.Stream, rec.Seq, rec.Payload)
	}
	if rec.ID.Class != rec.Class {
		t.Fatalf("ID class %d, record class %d", rec.ID.Class, rec.Class)
	}
}

// drain reads until nothing arrives for quiet and returns the records
// appended by the test; the writer's own loss reports are checked to
// decode and left out (reportsIn collects them).
func drain(t testing.TB, r *Reader, quiet time.Duration) []Record {
	t.Helper()
	var out []Record
	for _, rec := range drainRaw(t, r, quiet) {
		if isReport(rec) {
			reportOf(t, rec)
			continue
		}
		checkRecord(t, rec)
		out = append(out, rec)
	}
	return out
}

func isReport(rec Record) bool {
	return rec.Class == telemetry.ClassEvent && rec.Stream == ReportStream
}

// report is a decoded loss report.
type report struct {
	cond, reason, class, stream string
	first, last, records        uint64
	from                        time.Time
	span                        float64
}

func reportOf(t testing.TB, rec Record) report {
	t.Helper()
	p, err := telemetry.Unmarshal(rec.Payload)
	if err != nil {
		t.Fatalf("loss report %d: %v", rec.Seq, err)
	}
	rp := report{from: p.Time}
	for _, r := range p.Records {
		switch r.Name {
		case "event/condition":
			rp.cond = r.String
		case "event/reason":
			rp.reason = r.String
		case "event/class":
			rp.class = r.String
		case "event/stream":
			rp.stream = r.String
		case "event/seq_first":
			rp.first = uint64(*r.Value)
		case "event/seq_last":
			rp.last = uint64(*r.Value)
		case "event/records":
			rp.records = uint64(*r.Value)
		case "event/span":
			rp.span = *r.Value
		default:
			t.Fatalf("loss report %d: unexpected record %q", rec.Seq, r.Name)
		}
	}
	if rp.cond == "" || rp.reason == "" || rp.class == "" || rp.stream == "" || rp.records == 0 || p.Time.IsZero() {
		t.Fatalf("loss report %d incomplete: %+v", rec.Seq, rp)
	}
	return rp
}

// reportsIn decodes the loss reports among recs.
func reportsIn(t testing.TB, recs []Record) []report {
	t.Helper()
	var out []report
	for _, rec := range recs {
		if isReport(rec) {
			out = append(out, reportOf(t, rec))
		}
	}
	return out
}

func drainRaw(t testing.TB, r *Reader, quiet time.Duration) []Record {
	t.Helper()
	var out []Record
	for {
		ctx, cancel := context.WithTimeout(context.Background(), quiet)
		rec, err := r.Next(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
}

type streamKey struct {
	class  telemetry.Class
	stream string
}

func seqsByStream(recs []Record) map[streamKey][]uint64 {
	m := map[streamKey][]uint64{}
	for _, r := range recs {
		k := streamKey{r.Class, r.Stream}
		m[k] = append(m[k], r.Seq)
	}
	return m
}

// flushReports stores the writer's pending loss reports now.
func flushReports(t testing.TB, w *Writer) {
	t.Helper()
	w.mu.Lock()
	err := w.flushReports()
	w.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
}
