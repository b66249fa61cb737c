package nonin_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"medagent/hal/buserr"
	"medagent/sensors/nonin"
	"medagent/sensors/nonin/noninsim"
)

// TestRunPaced runs the simulator at its real 75 frames/s with a reader,
// then unplugs and replugs it while Run keeps going.
func TestRunPaced(t *testing.T) {
	ox := newOximeter(t)
	p, d := open(t, ox.Path())
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var runErr error
	wg.Add(1)
	go func() { defer wg.Done(); runErr = ox.Run(ctx) }()
	defer func() {
		cancel()
		wg.Wait()
		if runErr != nil {
			t.Errorf("Run = %v", runErr)
		}
	}()
	readPackets(t, d, 1) // about 1/3 s of frames
	if err := ox.Unplug(); err != nil {
		t.Fatal(err)
	}
	var f nonin.Frame
	for {
		_, err := d.Read(&f)
		if errors.Is(err, buserr.ErrDisconnected) {
			break
		}
		if err != nil {
			t.Fatalf("Read after unplug = %v", err)
		}
	}
	p.Close()
	if err := ox.Replug(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, d2 := open(t, ox.Path())
		if _, err := d2.Read(&f); err == nil {
			readPackets(t, d2, 1)
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("no frames after replug: %v", err)
		}
	}
}

// Run sends the frames due by the simulator's clock, however few ticks it
// got: a Run kept off the CPU for a second (here: the clock jumps by one)
// sends the 75 frames due, not one a tick. A ticker alone sent fewer
// frames than 75 a second on a loaded machine, gaps a real oximeter
// never makes.
func TestRunSendsFramesDueByClock(t *testing.T) {
	var now atomic.Int64
	ox, err := noninsim.New(&noninsim.Opts{Link: filepath.Join(t.TempDir(), "nonin0"),
		Clock: func() time.Duration { return time.Duration(now.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ox.Close() })
	_, d := open(t, ox.Path())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ox.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	var f nonin.Frame
	// Nothing is due while the clock stands: the read times out.
	if _, err := d.Read(&f); !errors.Is(err, buserr.ErrTimeout) {
		t.Fatalf("Read with the clock at 0 = %v, want ErrTimeout (no frame due)", err)
	}
	for _, step := range []time.Duration{time.Second, 2 * time.Second / 3} {
		now.Add(int64(step))
		want := int(step * nonin.FramesPerSecond / time.Second)
		for i := range want {
			if _, err := d.Read(&f); err != nil {
				t.Fatalf("after %v more: frame %d of %d: %v", step, i, want, err)
			}
		}
		if _, err := d.Read(&f); !errors.Is(err, buserr.ErrTimeout) {
			t.Fatalf("after %v more: frame %d sent (err %v), want exactly %d", step, want+1, err, want)
		}
	}
}
