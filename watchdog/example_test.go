package watchdog_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"medagent/watchdog"
)

// The agent wires the watchdog next to its other components: Healthy says
// whether the sampler made progress recently, so a stuck sampler stops the
// pets and systemd (WatchdogSec=) or the hardware resets the device.
func Example() {
	var lastSample atomic.Int64 // unix nanoseconds, stored by the sampler
	lastSample.Store(time.Now().UnixNano())
	w, err := watchdog.New(watchdog.Options{
		Device:   "", // "/dev/watchdog" on a device
		Interval: 5 * time.Second,
		Healthy: func() error {
			if time.Since(time.Unix(0, lastSample.Load())) > 10*time.Second {
				return errors.New("no sample for 10 s")
			}
			return nil
		},
	}, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_ = w.Run(ctx) // in the agent: g.Go(func() error { return w.Run(ctx) })
}
