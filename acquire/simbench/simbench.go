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
