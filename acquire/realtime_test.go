package acquire

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"medagent/sensors"
	"medagent/telemetry"
)

// pacedDevice delivers 20 samples per Read, 40 ms apart: a paced part
// (a DRDY line) at 500 samples/s. It allocates nothing.
type pacedDevice struct{ reads atomic.Int64 }

func (d *pacedDevice) Read(b []sensors.Block, _ time.Duration) (sensors.Status, error) {
	time.Sleep(time.Millisecond) // the wait for the data-ready line
	for i := range 20 {
		b[0].Append(float64(i), true)
	}
	d.reads.Add(1)
	return sensors.Status{}, nil
}

func (d *pacedDevice) Close() error { return nil }

func pacedSource(d *pacedDevice) sensors.Source {
	return sensors.Source{Kind: sensors.ECG, Rate: 500, Paced: true, Loss: sensors.LossFrames,
		Streams: []sensors.Stream{{Name: "II", Unit: "mV", MDC: sensors.MDCECGLeadII}},
		Open:    func(sensors.Buses) (sensors.Device, error) { return d, nil }}
}

// TestSamplingLoopAllocatesNothing runs a sampling loop with its block pool
// and a consumer that gives the blocks back, as the edge stage does: once
// warm, a read allocates nothing (no garbage, no GC work on the real-time
// path).
func TestSamplingLoopAllocatesNothing(t *testing.T) {
	d := &pacedDevice{}
	origin := time.Now()
	out := make(chan frame, frameQueue)
	s := &sampler{name: "ecg", src: pacedSource(d), out: out, events: &fakeSpool{}, tick: sampleTick,
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: time.Now,
		mono: func() time.Duration { return time.Since(origin) }, origin: origin,
		pool: make(chan []sensors.Block, blockPool)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	go func() {
		for {
			select {
			case f := <-out:
				f.release()
			case <-done:
				return
			}
		}
	}()
	waitReads := func(n int64) {
		for end := time.Now().Add(10 * time.Second); d.reads.Load() < n; {
			if time.Now().After(end) {
				t.Fatalf("only %d reads", d.reads.Load())
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitReads(50) // warm: the pool is full, the timers exist
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r0 := d.reads.Load()
	waitReads(r0 + 300)
	runtime.ReadMemStats(&after)
	reads := d.reads.Load() - r0
	if allocs := after.Mallocs - before.Mallocs; float64(allocs)/float64(reads) > 0.01 {
		t.Fatalf("%d allocations in %d reads of the sampling loop (the whole process); want none", allocs, reads)
	} else {
		t.Logf("%d allocations in the process during %d reads", allocs, reads)
	}
	cancel()
	<-done
}

// TestRealtimeDeniedSaysSo: without the right to SCHED_FIFO (the test
// drops RLIMIT_RTPRIO to 0 in a child process that is not root), the
// sampler says why in an event and samples at normal priority.
func TestRealtimeDenied(t *testing.T) {
	if os.Getenv("MEDAGENT_RT_CHILD") == "1" {
		realtimeDeniedChild(t)
		return
	}
	cmd := testChild(t, "TestRealtimeDenied", "MEDAGENT_RT_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestRealtimeDenied") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func realtimeDeniedChild(t *testing.T) {
	if err := unix.Setrlimit(unix.RLIMIT_RTPRIO, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// Root may set any priority: become nobody for this thread's
		// process (setuid applies to every thread in Go ≥ 1.16).
		if err := unix.Setgid(65534); err != nil {
			t.Fatal(err)
		}
		if err := unix.Setuid(65534); err != nil {
			t.Fatal(err)
		}
	}
	d := &pacedDevice{}
	origin := time.Now()
	sp := &fakeSpool{}
	ev := newEvents(sp, slog.New(slog.NewTextHandler(io.Discard, nil)))
	out := make(chan frame, frameQueue)
	s := &sampler{name: "ecg", src: pacedSource(d), out: out, events: sp, tick: sampleTick,
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: time.Now,
		mono: func() time.Duration { return time.Since(origin) }, origin: origin, evq: ev, rt: 50}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	evDone := make(chan struct{})
	go func() { defer close(evDone); ev.Run(ctx) }()
	for end := time.Now().Add(5 * time.Second); d.reads.Load() < 10; {
		if time.Now().After(end) {
			t.Fatal("no reads at normal priority")
		}
		select {
		case <-out:
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	<-done
	<-evDone
	var got []string
	for _, p := range sp.packs {
		if p.Stream == realtimeStream && p.Class == telemetry.ClassEvent {
			for _, r := range p.Records {
				if r.Name == "event/state" || r.Name == "event/error" {
					got = append(got, r.String)
				}
			}
		}
	}
	if len(got) != 2 || got[0] != "denied" || !strings.Contains(got[1], "LimitRTPRIO=50") {
		t.Fatalf("realtime event %q; want denied with the unit setting to change", got)
	}
}

// testChild runs one test of this binary again in a child process, with
// env added.
func testChild(t *testing.T, name string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}
