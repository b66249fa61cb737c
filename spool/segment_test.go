package spool

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var headerCases = []struct {
	name string
	h    segHeader
}{
	{"empty", segHeader{Class: cT, Num: 1, Created: time.Unix(1700000000, 5)}},
	{"streams", segHeader{Class: cA, Num: 77, Created: time.Unix(1700000000, 0), Seqs: map[string]uint64{"hr": 9, "spo2": 1 << 33, strings.Repeat("z", 255): 1}}},
}

func TestSegmentHeaderRoundTrip(t *testing.T) {
	for _, tc := range headerCases {
		for _, enc := range []bool{false, true} {
			t.Run(tc.name, func(t *testing.T) {
				aead := testAEAD(t)
				if !enc {
					aead = nil
				}
				b, err := encodeSegHeader(tc.h, aead)
				if err != nil {
					t.Fatal(err)
				}
				got, err := parseSegHeader(b, aead, true)
				if err != nil {
					t.Fatal(err)
				}
				want := tc.h
				want.Encrypted, want.DataStart = enc, int64(len(b))
				if want.Seqs == nil {
					want.Seqs = map[string]uint64{}
				}
				if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
					t.Fatalf("(-want +got):\n%s", diff)
				}
				for k := range len(b) {
					if _, err := parseSegHeader(b[:k], aead, true); err == nil {
						t.Fatalf("prefix %d accepted", k)
					}
					c := bytes.Clone(b)
					c[k] ^= 1
					if _, err := parseSegHeader(c, aead, true); err == nil {
						t.Fatalf("flip at %d accepted", k)
					}
				}
			})
		}
	}
}

// segmentSeeds returns real segment files: a header alone and one with
// frames, plain and encrypted.
func segmentSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, tc := range headerCases {
		for _, key := range [][]byte{nil, testKey} {
			o := Options{Key: key}
			aead, _ := o.aead()
			h := tc.h
			h.Class = cT
			b, err := encodeSegHeader(h, aead)
			if err != nil {
				t.Fatal(err)
			}
			seeds = append(seeds, b)
			for _, fc := range frameCases {
				var ad [adLen]byte
				b, _ = appendFrame(b, fc.e, aead, frameAD(&ad, cT, h.Num, int64(len(b))))
			}
			seeds = append(seeds, b, b[:len(b)-3])
		}
	}
	return seeds
}

// FuzzSegment writes arbitrary bytes as the only telemetry segment and
// opens the spool every way: offline stats, reader, writer. Nothing may
// panic, and a writer that opens must append a record the reader can read.
func FuzzSegment(f *testing.F) {
	for _, s := range segmentSeeds(f) {
		f.Add(s, false, uint8(1))
		f.Add(s, true, uint8(1))
	}
	f.Add([]byte("MSPL"), false, uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, enc bool, num uint8) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "telemetry"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "telemetry", segmentName(uint64(num)+1)), b, 0o600); err != nil {
			t.Fatal(err)
		}
		o := Options{Dir: dir, SegmentBytes: 4096, MaxBytes: 1 << 20, PollInterval: time.Millisecond}
		if enc {
			o.Key = testKey
		}
		ReadStats(dir)
		if r, err := OpenReader(o); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Millisecond)
			for {
				if _, err := r.Next(ctx); err != nil {
					break
				}
			}
			cancel()
			r.Close()
		}
		w, err := OpenWriter(o)
		if err != nil {
			return
		}
		defer w.Close()
		seq, err := w.Append(context.Background(), cT, "fuzz-stream", time.Unix(1, 0), []byte("fuzz-payload"))
		if err != nil {
			t.Fatalf("append after a successful open: %v", err)
		}
		r, err := OpenReader(o)
		if err != nil {
			t.Fatalf("reader after the writer opened: %v", err)
		}
		defer r.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for {
			rec, err := r.Next(ctx)
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("appended record seq %d not readable", seq)
			}
			if err != nil {
				t.Fatal(err)
			}
			if rec.Stream == "fuzz-stream" && rec.Seq == seq && string(rec.Payload) == "fuzz-payload" {
				return
			}
		}
	})
}
