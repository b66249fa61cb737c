package simbench

import (
	"time"

	"golang.org/x/sys/unix"

	"medagent/acquire"
	"medagent/config"
	"medagent/sensors"
	"medagent/sensors/simrig"
)

// New builds the simulators behind the sensor entries on bus "sim".
func New(entries []sensors.Config, s config.Sim, clock func() time.Duration) (acquire.Bench, error) {
	r, err := simrig.ForSensors(entries, s, clock)
	if err != nil {
		return nil, err
	}
	// The simulated data-ready lines wake the sampling threads with a
	// kernel timer, as a GPIO interrupt does on a board (a real-time
	// thread would otherwise wait for the Go scheduler's timers).
	r.ADS.SetSleep(kernelSleep)
	r.MAX.SetSleep(kernelSleep)
	return r, nil
}

func kernelSleep(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	for unix.Nanosleep(&ts, &ts) == unix.EINTR {
	}
}
