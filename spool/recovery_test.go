package spool

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// copyDir copies a spool directory tree (files and sub-directories).
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(to)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}

func activeSegment(t testing.TB, dir, class string) string {
	t.Helper()
	nums, err := listSegments(filepath.Join(dir, class))
	if err != nil || len(nums) == 0 {
		t.Fatalf("no segments in %s: %v", class, err)
	}
	return filepath.Join(dir, class, segmentName(nums[len(nums)-1]))
}

func fileSize(t testing.TB, p string) int64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestTornTailEveryOffset cuts the last frame at every byte offset, as a
// crash mid-write would, and checks that the earlier records survive, the
// writer truncates the tail and numbering resumes at the lost seq.
func TestTornTailEveryOffset(t *testing.T) {
	forBoth(t, func(t *testing.T, enc bool) {
		o := testOpts(t, enc)
		w := mustWriter(t, o)
		for range 4 {
			mustAppend(t, w, cT, "ecg", 20)
		}
		seg := activeSegment(t, o.Dir, "telemetry")
		before := fileSize(t, seg)
		mustAppend(t, w, cT, "ecg", 20)
		after := fileSize(t, seg)
		w.Close()
		for k := before; k < after; k++ {
			o2 := o
			o2.Dir = t.TempDir()
			copyDir(t, o.Dir, o2.Dir)
			if err := os.Truncate(activeSegment(t, o2.Dir, "telemetry"), k); err != nil {
				t.Fatal(err)
			}
			// A reader meeting the torn tail waits; it does not skip it.
			r := mustReader(t, o2)
			recs := drain(t, r, 5*time.Millisecond)
			if diff := cmp.Diff(map[streamKey][]uint64{{cT, "ecg"}: {1, 2, 3, 4}}, seqsByStream(recs)); diff != "" {
				t.Fatalf("cut at %d: records (-want +got):\n%s", k, diff)
			}
			if r.corrupt != 0 {
				t.Fatalf("cut at %d: reader counted %d corrupt frames", k, r.corrupt)
			}
			w := mustWriter(t, o2)
			if got, want := w.Stats().TornTails, uint64(min(k-before, 1)); got != want {
				t.Fatalf("cut at %d: torn tails %d, want %d", k, got, want)
			}
			if seq := mustAppend(t, w, cT, "ecg", 3); seq != 5 {
				t.Fatalf("cut at %d: next seq %d", k, seq)
			}
			// The waiting reader now sees the new record written over
			// the truncated tail.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			rec, err := r.Next(ctx)
			cancel()
			if err != nil || rec.Seq != 5 || len(rec.Payload) != len(payloadFor(cT, "ecg", 5))+3 {
				t.Fatalf("cut at %d: after rewrite got %+v, %v", k, rec, err)
			}
			w.Close()
			r.Close()
		}
	})
}

// frameOffsets lists the frame offsets of a segment file.
func frameOffsets(t testing.TB, p string) []int64 {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := readSegHeader(f, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	if err := walkFrames(newScanner(f), h.DataStart, fileSize(t, p), func(off int64, _ []byte) { offs = append(offs, off) }); err != nil {
		t.Fatal(err)
	}
	return offs
}

func flipByte(t testing.TB, p string, off int64) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x10
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}

// TestCorruptFrames damages frames in a sealed segment (a body byte and a
// length byte, which needs a resync) and one in the middle of the active
// segment: exactly those records are skipped and counted.
func TestCorruptFrames(t *testing.T) {
	forBoth(t, func(t *testing.T, enc bool) {
		o := testOpts(t, enc)
		w := mustWriter(t, o)
		for range 100 {
			mustAppend(t, w, cT, "ecg", 100)
		}
		w.Close()
		nums, _ := listSegments(filepath.Join(o.Dir, "telemetry"))
		if len(nums) < 3 {
			t.Fatalf("want several segments, got %v", nums)
		}
		first := filepath.Join(o.Dir, "telemetry", segmentName(nums[0]))
		offs := frameOffsets(t, first)
		perSeg := uint64(len(offs))
		flipByte(t, first, offs[2]+frameHeaderLen+20) // seq 3: body
		flipByte(t, first, offs[5]+5)                 // seq 6: length field
		active := activeSegment(t, o.Dir, "telemetry")
		aoffs := frameOffsets(t, active)
		if len(aoffs) < 3 {
			t.Fatalf("active segment has %d frames", len(aoffs))
		}
		flipByte(t, active, aoffs[1]+frameHeaderLen+3)
		lostActive := 100 - uint64(len(aoffs)) + 2

		if s, err := ReadStats(o.Dir); err != nil || s.DamagedSpans != 3 {
			t.Fatalf("ReadStats damaged spans %d (%v), want 3", s.DamagedSpans, err)
		}
		// The writer's recovery keeps the frames after the damage.
		w = mustWriter(t, o)
		if seq := mustAppend(t, w, cT, "ecg", 0); seq != 101 {
			t.Fatalf("seq after recovery %d", seq)
		}
		w.Close()
		r := mustReader(t, o)
		defer r.Close()
		recs := drain(t, r, 30*time.Millisecond)
		var want []uint64
		for s := uint64(1); s <= 101; s++ {
			if s != 3 && s != 6 && s != lostActive {
				want = append(want, s)
			}
		}
		if diff := cmp.Diff(map[streamKey][]uint64{{cT, "ecg"}: want}, seqsByStream(recs)); diff != "" {
			t.Fatalf("records (-want +got):\n%s", diff)
		}
		if s := r.Stats(); s.CorruptFrames != 3 {
			t.Fatalf("corrupt frames %d, want 3", s.CorruptFrames)
		}
		_ = perSeg
	})
}

// TestDamagedLengthInActiveSegment: a frame whose length field is hit
// looks incomplete; with a valid frame after it, a tailing reader skips
// it at once instead of waiting for the segment to be sealed.
func TestDamagedLengthInActiveSegment(t *testing.T) {
	o := testOpts(t, false)
	w := mustWriter(t, o)
	defer w.Close()
	for range 5 {
		mustAppend(t, w, cT, "ecg", 20)
	}
	seg := activeSegment(t, o.Dir, "telemetry")
	offs := frameOffsets(t, seg)
	flipByte(t, seg, offs[2]+6) // length of seq 3 grows by 1 MiB: looks incomplete
	r := mustReader(t, o)
	defer r.Close()
	mustAppend(t, w, cT, "ecg", 20)
	recs := drain(t, r, 30*time.Millisecond)
	if diff := cmp.Diff(map[streamKey][]uint64{{cT, "ecg"}: {1, 2, 4, 5, 6}}, seqsByStream(recs)); diff != "" {
		t.Fatalf("records (-want +got):\n%s", diff)
	}
	if r.Stats().CorruptFrames != 1 {
		t.Fatalf("corrupt frames %d", r.Stats().CorruptFrames)
	}
}
