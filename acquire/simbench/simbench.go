// Package simbench plugs the bench's simulators (sensors/simrig) into
// acquisition: New is an acquire.NewBench. Bench builds link it (the
// medagent-sim command, tests); the device binary never does.
package simbench

import (
	"time"

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
	return r, nil
}
