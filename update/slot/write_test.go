package slot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
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
	w := &Writer{FlushEvery: 1 << 20, Progress: func(int64) { calls++ }}
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
	if calls != 4 {
		t.Errorf("progress called %d times, want 4", calls)
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

// TestReadBackMismatch: corruption between write and read-back is caught.
func TestReadBackMismatch(t *testing.T) {
	p := newSlotFile(t, 4096, 0)
	data := payload(4000)
	r := &corruptAfterEOF{r: bytes.NewReader(data), path: p}
	if _, err := Write(context.Background(), p, r, int64(len(data))); !errors.Is(err, ErrReadBack) {
		t.Fatalf("err = %v, want ErrReadBack", err)
	}
}

// corruptAfterEOF flips a byte of the slot when the writer reads EOF,
// i.e. after the data went out and before the read-back.
type corruptAfterEOF struct {
	r    io.Reader
	path string
}

func (c *corruptAfterEOF) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if err == io.EOF {
		f, _ := os.OpenFile(c.path, os.O_RDWR, 0)
		f.WriteAt([]byte{0xFF ^ payload(11)[10]}, 10)
		f.Close()
	}
	return n, err
}
