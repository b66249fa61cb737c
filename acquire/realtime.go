package acquire

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"medagent/telemetry"
)

// Realtime configures the real-time sampling path.
type Realtime struct {
	// Priority is the SCHED_FIFO priority (1..99) of every sensor's
	// sampling thread; 0 samples at normal priority.
	Priority int
	// LockMemory locks the process's memory (mlockall), so that no page
	// fault delays a sample.
	LockMemory bool
}

// Every sensor's sampling loop runs on its own real-time thread: a 500/s
// ECG front end without a FIFO has 2 ms to be read before its next
// conversion overwrites the frame, a MAX3010x at 100/s a 32-sample FIFO
// (320 ms); even a thermometer read once a second misses its window when
// a loaded machine keeps a thread of normal priority off the CPU for
// longer than the edge stage waits (measured: a false "no data" alarm of
// the TMP117 under stress-ng at load average 25). The threads sleep in
// the kernel between reads and cost no CPU.

// realtimeStream is the event stream that says how sampling runs.
const realtimeStream = "realtime"

// enterRealtime locks the calling goroutine to its OS thread and makes
// that thread SCHED_FIFO at prio. On error the goroutine is unlocked
// again and runs at normal priority; the error says why and what to
// change. The thread is never handed back (the goroutine ends with the
// thread locked, so the runtime retires the thread).
func enterRealtime(prio int) error {
	runtime.LockOSThread()
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: uint32(prio)}
	err := unix.SchedSetAttr(0, &attr, 0)
	if err == nil {
		return nil
	}
	runtime.UnlockOSThread()
	if errors.Is(err, unix.EPERM) {
		var rl unix.Rlimit
		unix.Getrlimit(unix.RLIMIT_RTPRIO, &rl)
		return fmt.Errorf("SCHED_FIFO priority %d not permitted (RLIMIT_RTPRIO %d, uid %d): give the acquire unit LimitRTPRIO=%d and RestrictRealtime=no: %w",
			prio, rl.Cur, os.Geteuid(), prio, err)
	}
	return fmt.Errorf("SCHED_FIFO priority %d: %w", prio, err)
}

// lockMemory locks the process's pages in RAM, now and as it grows
// (pages are locked as they are touched, MCL_ONFAULT, so the Go heap's
// reserved address space costs nothing). Without root it needs an
// unlimited RLIMIT_MEMLOCK: with a finite one, growth of the heap past
// it would fail, so it is not tried.
func lockMemory() error {
	var rl unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_MEMLOCK, &rl)
	if os.Geteuid() != 0 && rl.Cur != unix.RLIM_INFINITY {
		return fmt.Errorf("memory not locked: RLIMIT_MEMLOCK is %d bytes, not unlimited (give the acquire unit LimitMEMLOCK=infinity)", rl.Cur)
	}
	err := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE | unix.MCL_ONFAULT)
	if errors.Is(err, unix.EINVAL) { // kernels before 4.4 have no MCL_ONFAULT
		err = unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE)
	}
	if err != nil {
		return fmt.Errorf("mlockall: %w", err)
	}
	return nil
}

// sleepUntil blocks the calling thread in the kernel until monotonic time
// deadline of origin's clock: a real-time thread is woken by the kernel's
// timer at its own priority, not by the Go scheduler's timers, which run
// on threads of normal priority.
func sleepUntil(origin time.Time, deadline time.Duration) {
	d := deadline - time.Since(origin)
	if d <= 0 {
		return
	}
	ts := unix.NsecToTimespec(int64(d))
	for unix.Nanosleep(&ts, &ts) == unix.EINTR {
	}
}

// realtimePack is the event of how a sensor's sampling thread runs.
func realtimePack(at time.Time, sensor string, prio int, err error) telemetry.Pack {
	recs := []telemetry.Record{
		{Name: "event/condition", String: "sched_fifo"},
		{Name: "event/sensor", String: sensor},
		{Name: "event/priority", Value: telemetry.V(float64(prio))},
	}
	if err != nil {
		recs = append(recs, telemetry.Record{Name: "event/state", String: "denied"}, telemetry.Record{Name: "event/error", String: err.Error()})
	} else {
		recs = append(recs, telemetry.Record{Name: "event/state", String: "active"})
	}
	return telemetry.Pack{Stream: realtimeStream, Class: telemetry.ClassEvent, Time: at, Records: recs}
}

func memlockPack(at time.Time, err error) telemetry.Pack {
	recs := []telemetry.Record{{Name: "event/condition", String: "memory_lock"}}
	if err != nil {
		recs = append(recs, telemetry.Record{Name: "event/state", String: "denied"}, telemetry.Record{Name: "event/error", String: err.Error()})
	} else {
		recs = append(recs, telemetry.Record{Name: "event/state", String: "active"})
	}
	return telemetry.Pack{Stream: realtimeStream, Class: telemetry.ClassEvent, Time: at, Records: recs}
}

// events spools the packs of the sampling loops from a goroutine of its
// own, so that a real-time thread never waits for a disk (an fsync under
// I/O load can take a second). The queue is bounded; a pack that does
// not fit is dropped and counted.
type events struct {
	q       chan telemetry.Pack
	out     Appender
	log     *slog.Logger
	dropped atomic.Uint64
}

const eventQueue = 64

func newEvents(out Appender, log *slog.Logger) *events {
	return &events{q: make(chan telemetry.Pack, eventQueue), out: out, log: log}
}

// put queues p without waiting.
func (e *events) put(p telemetry.Pack) {
	select {
	case e.q <- p:
	default:
		e.dropped.Add(1)
	}
}

func (e *events) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			e.flush(context.WithoutCancel(ctx))
			return nil
		case p := <-e.q:
			e.append(ctx, p)
		}
	}
}

// flush spools what is queued at shutdown.
func (e *events) flush(ctx context.Context) {
	for {
		select {
		case p := <-e.q:
			e.append(ctx, p)
		default:
			return
		}
	}
}

func (e *events) append(ctx context.Context, p telemetry.Pack) {
	b, err := p.Marshal()
	if err == nil {
		_, err = e.out.Append(ctx, p.Class, p.Stream, p.Time, b)
	}
	if err != nil {
		e.log.Error("spool append of an acquisition event failed", "stream", p.Stream, "err", err)
	}
}
