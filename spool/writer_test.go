package spool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"medagent/telemetry"
)

func TestAppendValidation(t *testing.T) {
	w := mustWriter(t, testOpts(t, false))
	defer w.Close()
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		class   telemetry.Class
		stream  string
		payload []byte
		want    string
	}{
		{"empty stream", ctx, cT, "", nil, "stream name length 0"},
		{"long stream", ctx, cT, strings.Repeat("x", 256), nil, "stream name length 256"},
		{"big payload", ctx, cA, "hr", make([]byte, MaxPayload+1), "exceeds"},
		{"class 0", ctx, 0, "hr", nil, "unknown class 0"},
		{"class 4", ctx, 4, "hr", nil, "unknown class 4"},
		{"canceled", canceled, cT, "hr", nil, "context canceled"},
		{"zero time", ctx, cT, "hr", nil, "time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := time.Now()
			if tc.name == "zero time" {
				ts = time.Time{}
			}
			_, err := w.Append(tc.ctx, tc.class, tc.stream, ts, tc.payload)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
	// Nothing above consumed a sequence number.
	if seq := mustAppend(t, w, cT, "hr", 0); seq != 1 {
		t.Fatalf("seq %d", seq)
	}
}

func TestOptionsValidation(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"no dir", Options{}, "dir is empty"},
		{"small segment", Options{Dir: dir, SegmentBytes: 100}, "segment_bytes"},
		{"small max", Options{Dir: dir, SegmentBytes: 1 << 20, MaxBytes: 2 << 20}, "max_bytes"},
		{"short key", Options{Dir: dir, Key: make([]byte, 16)}, "want 32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := OpenWriter(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("OpenWriter: %v, want %q", err, tc.want)
			}
			if _, err := OpenReader(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("OpenReader: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestRoundTripPriority(t *testing.T) {
	forBoth(t, func(t *testing.T, enc bool) {
		o := testOpts(t, enc)
		w := mustWriter(t, o)
		defer w.Close()
		// Interleave classes; several segments per class.
		for i := range 60 {
			mustAppend(t, w, cT, "ecg", 100)
			mustAppend(t, w, cT, "spo2", 10)
			if i%3 == 0 {
				mustAppend(t, w, cE, "lead-off", 50)
			}
			if i%5 == 0 {
				mustAppend(t, w, cA, "hr-high", 50)
			}
		}
		r := mustReader(t, o)
		defer r.Close()
		recs := drain(t, r, 50*time.Millisecond)
		if len(recs) != 60*2+20+12 {
			t.Fatalf("got %d records", len(recs))
		}
		var classesSeen []telemetry.Class
		for _, rec := range recs {
			if n := len(classesSeen); n == 0 || classesSeen[n-1] != rec.Class {
				classesSeen = append(classesSeen, rec.Class)
			}
		}
		if diff := cmp.Diff([]telemetry.Class{cA, cE, cT}, classesSeen); diff != "" {
			t.Errorf("class order (-want +got):\n%s", diff)
		}
		want := map[streamKey][]uint64{
			{cT, "ecg"}: seqRange(1, 60), {cT, "spo2"}: seqRange(1, 60),
			{cE, "lead-off"}: seqRange(1, 20), {cA, "hr-high"}: seqRange(1, 12),
		}
		if diff := cmp.Diff(want, seqsByStream(recs)); diff != "" {
			t.Errorf("seqs (-want +got):\n%s", diff)
		}
		if rec := recs[0]; !rec.Time.Equal(time.Unix(1700000000, 1)) {
			t.Errorf("time %v", rec.Time)
		}
	})
}

func seqRange(from, to uint64) []uint64 {
	var s []uint64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

func TestSeqContinuesAfterReopen(t *testing.T) {
	forBoth(t, func(t *testing.T, enc bool) {
		o := testOpts(t, enc)
		w := mustWriter(t, o)
		for range 100 { // spans many segments
			mustAppend(t, w, cT, "ecg", 100)
		}
		mustAppend(t, w, cA, "hr-high", 0)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		w = mustWriter(t, o)
		if seq := mustAppend(t, w, cT, "ecg", 0); seq != 101 {
			t.Fatalf("seq after reopen %d", seq)
		}
		if seq := mustAppend(t, w, cA, "hr-high", 0); seq != 2 {
			t.Fatalf("alarm seq after reopen %d", seq)
		}
		// Same stream name in another class has its own numbering.
		if seq := mustAppend(t, w, cE, "ecg", 0); seq != 1 {
			t.Fatalf("event seq %d", seq)
		}
		w.Close()

		// Ack everything: the reader deletes all but the newest segments.
		r := mustReader(t, o)
		for _, rec := range drain(t, r, 30*time.Millisecond) {
			if err := r.Ack(rec.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		nums, _ := listSegments(filepath.Join(o.Dir, "telemetry"))
		if len(nums) != 1 {
			t.Fatalf("telemetry segments after full ack: %v", nums)
		}
		w = mustWriter(t, o)
		defer w.Close()
		if seq := mustAppend(t, w, cT, "ecg", 0); seq != 102 {
			t.Fatalf("seq after ack-deletion %d", seq)
		}
	})
}

func TestTwoWritersTwoReadersRefused(t *testing.T) {
	o := testOpts(t, false)
	w := mustWriter(t, o)
	if _, err := OpenWriter(o); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "writer.lock") {
		t.Fatalf("second writer: %v", err)
	}
	r := mustReader(t, o) // one writer and one reader is the normal case
	if _, err := OpenReader(o); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "reader.lock") {
		t.Fatalf("second reader: %v", err)
	}
	w.Close()
	r.Close()
	w2 := mustWriter(t, o) // released on Close
	w2.Close()
}

func TestWrongKey(t *testing.T) {
	o := testOpts(t, true)
	w := mustWriter(t, o)
	mustAppend(t, w, cA, "hr", 0)
	w.Close()
	bad := o
	bad.Key = make([]byte, 32)
	if _, err := OpenWriter(bad); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("writer with wrong key: %v", err)
	}
	if _, err := OpenReader(bad); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("reader with wrong key: %v", err)
	}
	none := o
	none.Key = nil
	if _, err := OpenReader(none); err == nil || !strings.Contains(err.Error(), "no key") {
		t.Fatalf("reader without key: %v", err)
	}
	plain := testOpts(t, false)
	w = mustWriter(t, plain)
	w.Close()
	plain.Key = testKey
	if _, err := OpenWriter(plain); err == nil || !strings.Contains(err.Error(), "not encrypted") {
		t.Fatalf("key on a plaintext spool: %v", err)
	}
}

func TestNoPlaintextOnDiskWithKey(t *testing.T) {
	o := testOpts(t, true)
	w := mustWriter(t, o)
	secret := "SECRET-VITALS-PAYLOAD-0123456789"
	stream := "MDC_SECRET_STREAM_NAME"
	for i := range 200 { // several segments: headers carry stream snapshots
		if _, err := w.Append(context.Background(), telemetry.Class(i%3+1), stream, time.Now(), []byte(secret)); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	r := mustReader(t, o)
	recs := drainRaw(t, r, 30*time.Millisecond)
	r.Close()
	if len(recs) != 200 || string(recs[0].Payload) != secret {
		t.Fatalf("read back %d records", len(recs))
	}
	n := 0
	err := filepath.WalkDir(o.Dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		for _, s := range []string{secret, secret[:12], stream, stream[:10]} {
			if strings.Contains(string(b), s) {
				t.Errorf("%s contains %q in clear", p, s)
			}
		}
		return nil
	})
	if err != nil || n < 6 {
		t.Fatalf("walked %d files: %v", n, err)
	}
}

func TestGroupCommitSharesFsyncs(t *testing.T) {
	o := testOpts(t, false)
	o.SegmentBytes = 1 << 20
	o.MaxBytes = 16 << 20
	w := mustWriter(t, o)
	defer w.Close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 {
				if _, err := w.Append(context.Background(), cT, string(rune('a'+g)), time.Now(), make([]byte, 200)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	s := w.Stats()
	if s.Appends != 320 {
		t.Fatalf("appends %d", s.Appends)
	}
	if s.Fsyncs >= s.Appends || s.Fsyncs == 0 {
		t.Fatalf("fsyncs %d for %d concurrent appends: no group commit", s.Fsyncs, s.Appends)
	}
	t.Logf("%d appends, %d fsyncs", s.Appends, s.Fsyncs)
}
