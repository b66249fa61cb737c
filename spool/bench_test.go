package spool

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Durable-append benchmarks. They fsync for real, so run them on the
// device's storage: MEDAGENT_BENCH_DIR chooses the directory (default: the
// test temp dir, which must not be a tmpfs for the numbers to mean
// anything).
//
//	go test -run '^$' -bench 'Append|FrameEncode' -benchtime 2s ./spool/

const benchPayload = 200

func benchDir(b *testing.B) string {
	b.Helper()
	if d := os.Getenv("MEDAGENT_BENCH_DIR"); d != "" {
		dir, err := os.MkdirTemp(d, "spoolbench")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	return b.TempDir()
}

// runConcurrent spreads b.N calls of fn over conc goroutines and reports
// records per second.
func runConcurrent(b *testing.B, conc int, fn func(g, i int) error) {
	b.Helper()
	var wg sync.WaitGroup
	b.ResetTimer()
	for g := range conc {
		n := b.N / conc
		if g < b.N%conc {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				if err := fn(g, i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkAppendSpool(b *testing.B) {
	for _, enc := range []bool{false, true} {
		for _, conc := range []int{1, 8} {
			name := fmt.Sprintf("%s/appenders=%d", map[bool]string{false: "plain", true: "aes"}[enc], conc)
			b.Run(name, func(b *testing.B) {
				o := Options{Dir: benchDir(b), MaxBytes: 256 << 20}
				if enc {
					o.Key = testKey
				}
				w, err := OpenWriter(o)
				if err != nil {
					b.Fatal(err)
				}
				defer w.Close()
				payload := make([]byte, benchPayload)
				streams := []string{"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7"}
				ctx := context.Background()
				now := time.Now()
				runConcurrent(b, conc, func(g, _ int) error {
					_, err := w.Append(ctx, cT, streams[g], now, payload)
					return err
				})
				s := w.Stats()
				b.ReportMetric(float64(s.Fsyncs)/float64(max(s.Appends, 1)), "fsyncs/record")
			})
		}
	}
}

// BenchmarkAppendBbolt is the alternative considered: one bbolt bucket per
// class, key = 8-byte sequence. One appender commits each record in its
// own Update (one fsync pair); concurrent appenders use db.Batch, bbolt's
// own group commit.
func BenchmarkAppendBbolt(b *testing.B) {
	for _, conc := range []int{1, 8} {
		b.Run(fmt.Sprintf("appenders=%d", conc), func(b *testing.B) {
			db, err := bolt.Open(filepath.Join(benchDir(b), "spool.db"), 0o600, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			bucket := []byte("telemetry")
			if err := db.Update(func(tx *bolt.Tx) error {
				_, err := tx.CreateBucketIfNotExists(bucket)
				return err
			}); err != nil {
				b.Fatal(err)
			}
			payload := make([]byte, benchPayload)
			put := func(tx *bolt.Tx) error {
				bk := tx.Bucket(bucket)
				seq, err := bk.NextSequence()
				if err != nil {
					return err
				}
				return bk.Put(binary.BigEndian.AppendUint64(nil, seq), payload)
			}
			commit := db.Update
			if conc > 1 {
				commit = db.Batch
			}
			runConcurrent(b, conc, func(_, _ int) error { return commit(put) })
		})
	}
}

// BenchmarkFrameEncode isolates the CPU cost of a frame, plain and
// AES-256-GCM (the encryption overhead without the fsync that hides it).
func BenchmarkFrameEncode(b *testing.B) {
	for _, enc := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "aes"}[enc], func(b *testing.B) {
			o := Options{}
			if enc {
				o.Key = testKey
			}
			aead, _ := o.aead()
			e := entry{Stream: "MDC_ECG_HEART_RATE", Seq: 1, Time: time.Now(), Payload: make([]byte, benchPayload)}
			var buf []byte
			var ad [adLen]byte
			b.SetBytes(benchPayload)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				buf, err = appendFrame(buf[:0], e, aead, frameAD(&ad, cT, 1, 100))
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadAck measures the reader: Next and Ack of 200-byte
// telemetry records already on disk (cursor persisted every 100 ms, acked
// segments deleted as it goes).
func BenchmarkReadAck(b *testing.B) {
	for _, enc := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "aes"}[enc], func(b *testing.B) {
			o := Options{Dir: benchDir(b), MaxBytes: 1 << 30}
			if enc {
				o.Key = testKey
			}
			w, err := OpenWriter(o)
			if err != nil {
				b.Fatal(err)
			}
			payload := make([]byte, benchPayload)
			// Fill with concurrent appenders so the setup is fast.
			var wg sync.WaitGroup
			for g := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := g; i < b.N; i += 16 {
						if _, err := w.Append(context.Background(), cT, "ecg", time.Now(), payload); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			w.Close()
			r, err := OpenReader(o)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			ctx := context.Background()
			b.ResetTimer()
			for range b.N {
				rec, err := r.Next(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if err := r.Ack(rec.ID); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
