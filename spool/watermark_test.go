package spool

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// TestReaderDeliversOnlyDurable holds an fsync back: the frame is in the
// file, but the reader must not deliver it until the fsync is done (a
// power cut could still take it back and its seq would be reused).
func TestReaderDeliversOnlyDurable(t *testing.T) {
	o := testOpts(t, false)
	w := mustWriter(t, o)
	defer w.Close()
	r := mustReader(t, o)
	defer r.Close()
	mustAppend(t, w, cA, "hr-high", 0)
	if rec := nextOne(t, r); rec.Seq != 1 {
		t.Fatalf("seq %d", rec.Seq)
	}

	entered, release := make(chan struct{}), make(chan struct{})
	var released bool
	unblock := func() {
		if !released {
			released = true
			close(release)
		}
	}
	defer unblock() // before w.Close, which waits for the sync
	w.mu.Lock()
	w.fdatasync = func(f *os.File) error {
		close(entered)
		<-release
		return fdatasync(f)
	}
	w.mu.Unlock()
	seg := activeSegment(t, o.Dir, "alarm")
	before := fileSize(t, seg)
	done := make(chan error, 1)
	go func() {
		_, err := w.Append(context.Background(), cA, "hr-high", time.Unix(1700000000, 2), payloadFor(cA, "hr-high", 2))
		done <- err
	}()
	<-entered
	if fileSize(t, seg) <= before {
		t.Fatal("frame not written before the fsync")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	rec, err := r.Next(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("reader delivered a record before its fsync: %+v, %v", rec, err)
	}
	unblock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if rec := nextOne(t, r); rec.Seq != 2 {
		t.Fatalf("after the fsync: seq %d", rec.Seq)
	}
}

// TestFailedFsyncFailsClosed: after a failed fsync the writer refuses
// appends and the unsynced record is never delivered.
func TestFailedFsyncFailsClosed(t *testing.T) {
	o := testOpts(t, false)
	w := mustWriter(t, o)
	r := mustReader(t, o)
	defer r.Close()
	w.fdatasync = func(*os.File) error { return errors.New("EIO") }
	if _, err := w.Append(context.Background(), cT, "ecg", time.Now(), []byte("x")); err == nil {
		t.Fatal("append succeeded although its fsync failed")
	}
	if _, err := w.Append(context.Background(), cT, "ecg", time.Now(), []byte("y")); err == nil {
		t.Fatal("append accepted after a failed fsync")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if rec, err := r.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("unsynced record delivered: %+v, %v", rec, err)
	}
	w.Close()
}

func TestWatermarkDecode(t *testing.T) {
	m := watermark{Clean: true, Synced: [3]pos{{1, 40}, {7, 4000}, {1 << 40, 1}}}
	b := encodeWatermark(m)
	got, err := decodeWatermark(b)
	if err != nil || got != m {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for k := range b {
		c := append([]byte(nil), b...)
		c[k] ^= 4
		if _, err := decodeWatermark(c); err == nil {
			t.Fatalf("flip at %d accepted", k)
		}
	}
}
