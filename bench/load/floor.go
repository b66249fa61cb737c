package main

import (
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"

	"medagent/sensors"
	"medagent/sensors/ads1292"
	"medagent/sensors/sim"
	"medagent/sensors/simrig"
)

// floor reads the same ADS1292R driver on the same simulator as the agent
// does, alone: one SCHED_FIFO thread (priority 50) in this process, woken
// by the kernel, nothing else running. What it loses is what the machine
// (its kernel's wake-up latency, the other load) costs any reader of a
// part without a FIFO; the agent's figure is read against it.
func floor(d time.Duration) (lost, total int, rt error, err error) {
	p, err := sim.NewPatient(sim.DefaultPatientOptions())
	if err != nil {
		return 0, 0, nil, err
	}
	start := time.Now()
	clock := func() time.Duration { return time.Since(start) }
	rig, err := simrig.New(simrig.Options{Patient: p, Clock: clock})
	if err != nil {
		return 0, 0, nil, err
	}
	rig.ADS.SetSleep(func(d time.Duration) {
		ts := unix.NsecToTimespec(int64(d))
		for unix.Nanosleep(&ts, &ts) == unix.EINTR {
		}
	})
	b := rig.Buses(sensors.Buses{})
	port, err := b.SPI("sim", spi.Mode1, 0)
	if err != nil {
		return 0, 0, nil, err
	}
	pin, err := b.Pin("sim:"+simrig.PinADSDRDY, gpio.PullUp, gpio.FallingEdge)
	if err != nil {
		return 0, 0, nil, err
	}
	dev, err := ads1292.New(port, &ads1292.Opts{DRDY: pin, Clock: clock})
	if err != nil {
		return 0, 0, nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // retired with the goroutine
		attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: 50}
		if e := unix.SchedSetAttr(0, &attr, 0); e != nil {
			rt = fmt.Errorf("SCHED_FIFO: %w", e)
		}
		var f ads1292.Frame
		for end := time.Now().Add(d); time.Now().Before(end); {
			if e := dev.Read(&f); e != nil {
				err = e
				return
			}
			total += 1 + f.Lost
			lost += f.Lost
		}
	}()
	<-done
	return lost, total, rt, err
}
