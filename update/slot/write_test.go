package slot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func newSlotFile(t testing.TB, size int64, fill byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "slot.img")
	if err := os.WriteFile(p, bytes.Repeat([]byte{fill}, int(size)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func payload(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestWrite(t *testing.T) {
	p := newSlotFile(t, 4<<20, 0xEE)
	data := payload(3<<20 + 123)
	var calls int
	var last int64
	w := &Writer{FlushEvery: 1 << 20, Progress: func(n int64) {
		if n <= last {
			t.Errorf("progress %d after %d", n, last)
		}
		calls, last = calls+1, n
	}}
	d, err := w.Write(context.Background(), p, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if d != sha256.Sum256(data) {
		t.Errorf("digest %s, want sha256 of payload", d)
	}
	got, _ := os.ReadFile(p)
	if !bytes.Equal(got[:len(data)], data) {
		t.Error("slot content differs from payload")
	}
	if got[len(data)] != 0xEE || int64(len(got)) != 4<<20 {
		t.Error("bytes after the payload or the slot size changed")
	}
	// One call per write: [128 KiB, 1 MiB), three more up to the end, and
	// the held-back start written last.
	if calls != 5 || last != int64(len(data)) {
		t.Errorf("progress called %d times, last %d; want 5, ending at %d", calls, last, len(data))
	}
}

func TestWriteRefusals(t *testing.T) {
	ctx := context.Background()
	data := payload(1000)
	for _, tc := range []struct {
		name      string
		slotSize  int64
		r         io.Reader
		size      int64
		err       error
		untouched bool
	}{
		{"larger than slot", 999, bytes.NewReader(data), 1000, ErrTooLarge, true},
		{"short payload", 2000, bytes.NewReader(data[:500]), 1000, ErrSize, false},
		{"long payload", 2000, bytes.NewReader(data), 900, ErrSize, false},
		{"reader error at EOF", 2000, io.MultiReader(bytes.NewReader(data), errReader{}), 1000, errChecksum, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newSlotFile(t, tc.slotSize, 0xEE)
			_, err := Write(ctx, p, tc.r, tc.size)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			got, _ := os.ReadFile(p)
			if tc.untouched && !bytes.Equal(got, bytes.Repeat([]byte{0xEE}, int(tc.slotSize))) {
				t.Error("refused write changed the slot")
			}
		})
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Write(cctx, newSlotFile(t, 2000, 0), bytes.NewReader(data), 1000); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err = %v", err)
	}
	if _, err := Write(ctx, t.TempDir(), bytes.NewReader(data), 1000); err == nil {
		t.Error("a directory was accepted as a slot")
	}
}

var errChecksum = errors.New("checksum mismatch")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errChecksum }

// TestReadBackMismatch: corruption of the media between the write and the
// read-back is caught, in an early window and in the last one.
func TestReadBackMismatch(t *testing.T) {
	data := payload(3<<20 + 4000)
	for _, at := range []int64{10, 1<<20 + 5, 3<<20 + 100} {
		p := newSlotFile(t, 4<<20, 0)
		done := false
		beforeReadBack = func(dst string, off, n int64) {
			if !done && off <= at && at < off+n {
				f, _ := os.OpenFile(dst, os.O_RDWR, 0)
				f.WriteAt([]byte{^data[at]}, at)
				f.Close()
				done = true
			}
		}
		w := &Writer{FlushEvery: 1 << 20}
		_, err := w.Write(context.Background(), p, bytes.NewReader(data), int64(len(data)))
		if !errors.Is(err, ErrReadBack) || !done || !strings.Contains(err.Error(), fmt.Sprintf("byte %d ", at)) {
			t.Errorf("corruption at %d: err = %v (corrupted: %v), want ErrReadBack naming the byte", at, err, done)
		}
	}
	beforeReadBack = func(string, int64, int64) {}
}

// cancelAfter cancels its context once n bytes have passed.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel func()
}

func (c *cancelAfter) Read(b []byte) (int, error) {
	m, err := c.r.Read(b)
	if c.n -= int64(m); c.n <= 0 {
		c.cancel()
	}
	return m, err
}

// TestWriteStopsAndOwnsItsWriter: cancellation in the middle of a payload
// ends Write with the context's error and leaves no goroutine behind; a
// Verified write returns no digest of its own but still checks the media.
func TestWriteStopsAndOwnsItsWriter(t *testing.T) {
	data := payload(6<<20 + 1)
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	p := newSlotFile(t, 8<<20, 0)
	_, err := (&Writer{FlushEvery: 1 << 20}).Write(ctx, p, &cancelAfter{r: bytes.NewReader(data), n: 3 << 20, cancel: cancel}, int64(len(data)))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// Write waits for its goroutine, which may still be between its last
	// statement and its exit for a moment: a leak is one still there 2 s on.
	for deadline := time.Now().Add(2 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Write, %d before", n, before)
	}
	d, err := (&Writer{Verified: true}).Write(context.Background(), p, bytes.NewReader(data), int64(len(data)))
	if err != nil || d != (Digest{}) {
		t.Fatalf("verified write: %s, %v", d, err)
	}
	if got, _ := ReadBack(p, int64(len(data))); got != sha256.Sum256(data) {
		t.Error("verified write: slot content differs")
	}
}

// TestCutWriteLeavesNoSuperblock: however a write ends before its good EOF
// (the stream fails its digest at the end, the reader breaks off in the
// middle, the context ends, the power goes in the middle of the stream),
// the slot starts with HeldBytes of zeros: neither the new payload's
// start (a valid superblock above bytes that do not belong to it) nor the
// old image's start survives. A good write puts it there last.
func TestCutWriteLeavesNoSuperblock(t *testing.T) {
	data := payload(5<<20 + 77)
	wiped := func(t *testing.T, p string) {
		t.Helper()
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[:HeldBytes], make([]byte, HeldBytes)) {
			t.Errorf("the slot's first %d bytes are not zeros after a cut write", HeldBytes)
		}
	}
	for _, tc := range []struct {
		name string
		r    func(cancel func()) io.Reader
	}{
		{"digest fails at EOF", func(func()) io.Reader { return io.MultiReader(bytes.NewReader(data), errReader{}) }},
		{"reader error in the middle", func(func()) io.Reader {
			return io.MultiReader(bytes.NewReader(data[:3<<20]), errReader{})
		}},
		{"canceled in the middle", func(cancel func()) io.Reader {
			return &cancelAfter{r: bytes.NewReader(data), n: 4 << 20, cancel: cancel}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newSlotFile(t, 8<<20, 0xEE)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, err := (&Writer{FlushEvery: 1 << 20, Verified: true}).Write(ctx, p, tc.r(cancel), int64(len(data)))
			if err == nil {
				t.Fatal("cut write succeeded")
			}
			wiped(t, p)
		})
	}
	t.Run("power cut at the last window", func(t *testing.T) {
		p := newSlotFile(t, 8<<20, 0xEE)
		// What the media holds when the last window is about to be read
		// back (everything after the first chunk written and synced) is
		// what a power cut at that instant leaves.
		var media []byte
		beforeReadBack = func(dst string, off, n int64) {
			if media == nil && off+n >= int64(len(data)) {
				media, _ = os.ReadFile(dst)
			}
		}
		defer func() { beforeReadBack = func(string, int64, int64) {} }()
		if _, err := (&Writer{FlushEvery: 1 << 20, Verified: true}).Write(context.Background(), p, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		if media == nil {
			t.Fatal("the last window was never read back")
		}
		if !bytes.Equal(media[:HeldBytes], make([]byte, HeldBytes)) {
			t.Errorf("the slot's first %d bytes are not zeros while the rest is still being written", HeldBytes)
		}
		if !bytes.Equal(media[HeldBytes:len(data)], data[HeldBytes:]) {
			t.Error("the rest of the payload was not on the media before the first chunk")
		}
	})
	t.Run("good write", func(t *testing.T) {
		p := newSlotFile(t, 8<<20, 0xEE)
		if _, err := (&Writer{FlushEvery: 1 << 20, Verified: true}).Write(context.Background(), p, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		if got, _ := ReadBack(p, int64(len(data))); got != sha256.Sum256(data) {
			t.Error("slot content differs from the payload")
		}
	})
}

// TestBadStreamWritesWhatCameBefore: when the stream goes bad (a chunk
// fails its verification) while the writer lags behind the reader, the
// chunks read before the bad one are all on the slot when Write returns,
// and nothing after them is touched: the result does not depend on load.
func TestBadStreamWritesWhatCameBefore(t *testing.T) {
	data := payload(10 << 20)
	const good = 6 << 20
	p := newSlotFile(t, 12<<20, 0xEE)
	beforeReadBack = func(string, int64, int64) { time.Sleep(100 * time.Millisecond) } // a slow medium
	defer func() { beforeReadBack = func(string, int64, int64) {} }()
	_, err := (&Writer{FlushEvery: 1 << 20, Verified: true}).Write(context.Background(), p,
		io.MultiReader(bytes.NewReader(data[:good]), errReader{}), int64(len(data)))
	if !errors.Is(err, errChecksum) {
		t.Fatalf("err = %v, want the stream's error", err)
	}
	got, _ := os.ReadFile(p)
	if !bytes.Equal(got[:HeldBytes], make([]byte, HeldBytes)) {
		t.Error("the held-back start is not zeros")
	}
	if !bytes.Equal(got[HeldBytes:good], data[HeldBytes:good]) {
		t.Error("chunks read before the bad one are not all written")
	}
	if !bytes.Equal(got[good:], bytes.Repeat([]byte{0xEE}, len(got)-good)) {
		t.Error("the slot after the bad chunk was touched")
	}
}

// TestWriteChunkSize: a smaller chunk size (what installs of xz and zstd
// payloads use) writes the same bytes, holds the start back the same way,
// and a chunk size that is not a multiple of 64 KiB of at least HeldBytes
// is refused before the slot is touched.
func TestWriteChunkSize(t *testing.T) {
	data := payload(3<<20 + 4321)
	p := newSlotFile(t, 4<<20, 0xEE)
	var media []byte
	beforeReadBack = func(dst string, off, n int64) {
		if media == nil && off+n >= int64(len(data)) {
			media, _ = os.ReadFile(dst)
		}
	}
	defer func() { beforeReadBack = func(string, int64, int64) {} }()
	w := &Writer{FlushEvery: 512 << 10, ChunkSize: 256 << 10, Verified: true}
	if _, err := w.Write(context.Background(), p, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if got, _ := ReadBack(p, int64(len(data))); got != sha256.Sum256(data) {
		t.Error("slot content differs from the payload")
	}
	if media == nil || !bytes.Equal(media[:HeldBytes], make([]byte, HeldBytes)) {
		t.Error("the start was not held back until the end")
	}
	for _, cs := range []int64{64 << 10, 200 << 10} {
		q := newSlotFile(t, 4<<20, 0xEE)
		if _, err := (&Writer{ChunkSize: cs}).Write(context.Background(), q, bytes.NewReader(data), int64(len(data))); err == nil {
			t.Errorf("chunk size %d accepted", cs)
		}
		if got, _ := os.ReadFile(q); !bytes.Equal(got, bytes.Repeat([]byte{0xEE}, 4<<20)) {
			t.Errorf("chunk size %d: the slot was touched", cs)
		}
	}
}
