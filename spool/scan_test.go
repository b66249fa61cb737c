package spool

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func threeFrames(t *testing.T) ([]byte, []int64) {
	t.Helper()
	var b []byte
	var offs []int64
	for i := range 3 {
		offs = append(offs, int64(len(b)))
		var err error
		b, err = appendFrame(b, entry{Stream: "ecg", Seq: uint64(i + 1), Time: time.Unix(1, 0), Payload: bytes.Repeat([]byte{'p'}, 100)}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
	}
	return b, offs
}

// TestScannerLimit: bytes buffered under a larger limit are never used
// past a smaller one (the reader's durable watermark).
func TestScannerLimit(t *testing.T) {
	b, offs := threeFrames(t)
	sc := newScanner(bytes.NewReader(b))
	if _, _, err := sc.frameAt(offs[0], int64(len(b))); err != nil {
		t.Fatal(err) // the buffer now holds all three frames
	}
	if _, _, err := sc.frameAt(offs[2], int64(len(b))-1); !errors.Is(err, errIncomplete) {
		t.Fatalf("frame past the limit: %v, want errIncomplete", err)
	}
	if _, n, err := sc.frameAt(offs[2], int64(len(b))); err != nil || int64(n) != int64(len(b))-offs[2] {
		t.Fatalf("frame at the limit: %d, %v", n, err)
	}
	if _, _, err := sc.frameAt(offs[1], offs[1]); !errors.Is(err, errIncomplete) {
		t.Fatalf("nothing before the limit: %v, want errIncomplete", err)
	}
}

func TestScannerResync(t *testing.T) {
	b, offs := threeFrames(t)
	for _, tc := range []struct {
		name    string
		damage  int64
		want    int64
		found   bool
		pending bool
	}{
		{"magic", offs[1], offs[2], true, false},
		{"length", offs[1] + 5, offs[2], true, false},
		{"body", offs[1] + 30, offs[2], true, false},
		{"last frame", offs[2] + 30, 0, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := bytes.Clone(b)
			c[tc.damage] ^= 0x20
			sc := newScanner(bytes.NewReader(c))
			start := offs[1]
			if tc.name == "last frame" {
				start = offs[2]
			}
			// A damaged length can also make the frame look incomplete.
			if _, _, err := sc.frameAt(start, int64(len(c))); !errors.Is(err, errCorrupt) && !errors.Is(err, errIncomplete) {
				t.Fatalf("damaged frame: %v", err)
			}
			next, found, pending := sc.resync(start, int64(len(c)))
			if next != tc.want || found != tc.found || pending != tc.pending {
				t.Fatalf("resync = %d %t %t, want %d %t %t", next, found, pending, tc.want, tc.found, tc.pending)
			}
		})
	}
	// A valid frame cut by the limit is pending, not found.
	c := bytes.Clone(b)
	c[offs[1]+30] ^= 0x20
	sc := newScanner(bytes.NewReader(c))
	if next, found, pending := sc.resync(offs[1], int64(len(c))-1); found || !pending || next != offs[2] {
		t.Fatalf("resync before a partial frame = %d %t %t", next, found, pending)
	}
}
