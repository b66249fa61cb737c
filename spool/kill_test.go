package spool

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"medagent/telemetry"
)

const killChildEnv = "MEDAGENT_SPOOL_KILL_CHILD"

// TestMain runs the child half of TestKill9 when that test starts this
// binary with killChildEnv set (no test runs then), else the tests.
func TestMain(m *testing.M) {
	if dir := os.Getenv(killChildEnv); dir != "" {
		killChild(dir)
		os.Exit(5) // killChild appends until it is killed
	}
	os.Exit(m.Run())
}

// killChild appends in a loop to the spool in dir and prints "class
// stream seq" after every Append that returned, until it is killed.
func killChild(dir string) {
	o := Options{Dir: dir, SegmentBytes: 8 << 10, MaxBytes: 64 << 20}
	if os.Getenv(killChildEnv+"_KEY") != "" {
		o.Key = testKey
	}
	w, err := OpenWriter(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g, s := range []struct {
		class  int
		stream string
	}{{1, "ecg"}, {1, "spo2"}, {2, "lead-off"}, {3, "hr-high"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := uint64(1); ; i++ {
				c := telemetry.Class(s.class)
				seq, err := w.Append(context.Background(), c, s.stream, time.Now(), append(payloadFor(c, s.stream, i), make([]byte, 150+g)...))
				if err != nil || seq != i {
					fmt.Fprintln(os.Stderr, "append:", seq, err)
					os.Exit(4)
				}
				mu.Lock()
				fmt.Fprintf(out, "%d %s %d\n", c, s.stream, seq)
				out.Flush() // the parent must see it before the kill can land
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// everyStream reports whether each of the child's four streams printed
// seq least or more.
func everyStream(printed map[streamKey]uint64, least uint64) bool {
	if len(printed) < 4 {
		return false
	}
	for _, q := range printed {
		if q < least {
			return false
		}
	}
	return true
}

// TestKill9 SIGKILLs a child process that appends in a loop at a random
// moment, then checks that every seq the child saw returned is in the
// spool, nothing is corrupt and numbering goes on.
func TestKill9(t *testing.T) {
	forBoth(t, func(t *testing.T, enc bool) {
		for round := range 3 {
			o := testOpts(t, enc)
			o.SegmentBytes = 8 << 10
			o.MaxBytes = 64 << 20
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), killChildEnv+"="+o.Dir)
			if enc {
				cmd.Env = append(cmd.Env, killChildEnv+"_KEY=1")
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			printed := map[streamKey]uint64{}
			// Closed after 40 printed appends, at least 2 of every stream:
			// on a loaded machine one goroutine of the child may print 40
			// before another has run at all.
			started := make(chan struct{})
			nlines, ready := 0, false
			lines := make(chan error, 1)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					f := strings.Fields(sc.Text())
					if len(f) != 3 {
						continue // a partial line cut by the kill
					}
					c, _ := strconv.Atoi(f[0])
					seq, _ := strconv.ParseUint(f[2], 10, 64)
					k := streamKey{telemetry.Class(c), f[1]}
					printed[k] = max(printed[k], seq)
					nlines++
					if !ready && nlines >= 40 && everyStream(printed, 2) {
						ready = true
						close(started)
					}
				}
				lines <- sc.Err()
			}()
			// In round 1 this process reads and acks while the child
			// writes: two processes meeting only in the directory.
			var before []Record
			readerDone := make(chan struct{})
			stopReading, stop := context.WithCancel(context.Background())
			defer stop()
			if round == 1 {
				live := mustReader(t, o)
				go func() {
					defer close(readerDone)
					defer live.Close()
					for {
						rec, err := live.Next(stopReading)
						if err != nil {
							return
						}
						before = append(before, rec)
						if err := live.Ack(rec.ID); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			} else {
				close(readerDone)
			}
			rng := rand.New(rand.NewPCG(uint64(round), uint64(time.Now().UnixNano())))
			// Kill at a random moment once the child is appending (its
			// start-up time varies with the machine's load).
			select {
			case <-started:
			case <-time.After(30 * time.Second):
				t.Fatalf("child did not start appending; stderr: %s", stderr.String())
			}
			// The child holds the writer lock: a writer here is refused.
			if w2, err := OpenWriter(o); !errors.Is(err, ErrLocked) {
				if err == nil {
					w2.Close()
				}
				t.Fatalf("second writer beside the child: %v, want ErrLocked", err)
			}
			time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("kill: %v (child stderr: %s)", err, stderr.String())
			}
			<-lines
			err = cmd.Wait()
			stop()
			<-readerDone
			if round == 1 && len(before) == 0 {
				t.Fatal("the live reader got nothing while the child wrote")
			}
			for _, rec := range before {
				checkRecord(t, rec)
			}
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
				t.Fatalf("child did not die by the signal: %v; stderr: %s", err, stderr.String())
			}
			if len(printed) == 0 || printed[streamKey{cT, "ecg"}] < 2 {
				t.Fatalf("child printed too little before the kill: %v; stderr: %s", printed, stderr.String())
			}

			// Open the reader first: it must cope with an unrecovered tail.
			r := mustReader(t, o)
			w := mustWriter(t, o)
			recs := drain(t, r, 30*time.Millisecond)
			got := seqsByStream(append(before, recs...))
			for k, seqs := range got {
				slices.Sort(seqs)
				got[k] = slices.Compact(seqs) // duplicates are allowed, gaps are not
			}
			for k, last := range printed {
				seqs := got[k]
				if len(seqs) < int(last) {
					t.Fatalf("round %d %v: child saw seq %d returned, spool has %d records", round, k, last, len(seqs))
				}
				for i, s := range seqs {
					if s != uint64(i+1) {
						t.Fatalf("round %d %v: seqs not 1..n: %v", round, k, seqs)
					}
				}
				// Numbering goes on after the last stored record.
				seq, err := w.Append(context.Background(), k.class, k.stream, time.Now(), payloadFor(k.class, k.stream, uint64(len(seqs)+1)))
				if err != nil || seq != uint64(len(seqs)+1) {
					t.Fatalf("round %d %v: append after kill: %d, %v", round, k, seq, err)
				}
			}
			s := r.Stats()
			if s.CorruptFrames != 0 || s.DamagedSpans != 0 {
				t.Fatalf("round %d: corrupt %d damaged %d", round, s.CorruptFrames, s.DamagedSpans)
			}
			t.Logf("round %d: killed after %v, torn tails %d, read live %d, after %d", round, printed, s.TornTails, len(before), len(recs))
			w.Close()
			r.Close()
		}
	})
}
