package nonin_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"medagent/hal/buserr"
	"medagent/sensors/nonin"
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
