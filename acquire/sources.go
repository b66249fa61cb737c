package acquire

import (
	"context"
	"errors"
	"fmt"
	"time"

	"medagent/config"
	"medagent/edge/pipeline"
	"medagent/sensors"
	"medagent/sensors/registry"
)

// Bench is simulated hardware behind the bus name "sim" (package
// sensors/simrig, linked into bench builds only).
type Bench interface {
	// Buses routes the sim names to the simulators and the others to
	// host.
	Buses(host sensors.Buses) sensors.Buses
	// Run drives the simulated peers (the oximeter writing its frames)
	// until ctx ends.
	Run(ctx context.Context) error
	Close() error
}

// NewBench builds the Bench behind the sensor entries on bus "sim"; the
// sim: section is its simulated patient and clock the chips' time.
type NewBench func(entries []sensors.Config, sim config.Sim, clock func() time.Duration) (Bench, error)

// sensorSet is the configured sensors, resolved, and the buses they are
// opened on.
type sensorSet struct {
	srcs  []sensors.Source
	buses sensors.Buses
	bench Bench // nil unless a sensor is on bus sim
}

// openSensors resolves every entry (in config order) and prepares the
// buses: the host's, with the bench behind "sim" when an entry uses it.
func openSensors(entries []sensors.Config, sim config.Sim, host sensors.Buses, newBench NewBench, clock func() time.Duration) (*sensorSet, error) {
	set := &sensorSet{buses: host}
	for i, c := range entries {
		src, err := registry.Resolve(c)
		if err != nil {
			return nil, fmt.Errorf("sensors[%d] %q: %w", i, c.Name, err)
		}
		set.srcs = append(set.srcs, src)
	}
	for i, c := range entries {
		if !sensors.IsSim(c.Bus) {
			continue
		}
		if newBench == nil {
			return nil, fmt.Errorf("sensors[%d] %q: bus sim: this build has no simulators (the bench build medagent-sim has; on a device, name the real bus)", i, c.Name)
		}
		b, err := newBench(entries, sim, clock)
		if err != nil {
			return nil, err
		}
		set.bench, set.buses = b, b.Buses(host)
		break
	}
	return set, nil
}

// declare describes the sensors to the edge pipeline, in config order.
func (s *sensorSet) declare(entries []sensors.Config) []pipeline.Sensor {
	var decl []pipeline.Sensor
	for i, c := range entries {
		src := s.srcs[i]
		ps := pipeline.Sensor{Name: c.Name, Kind: pipeline.Kind(src.Kind), Rate: src.Rate}
		for _, st := range src.Streams {
			ps.Streams = append(ps.Streams, pipeline.Stream{Unit: st.Unit, MDC: st.MDC})
		}
		decl = append(decl, ps)
	}
	return decl
}

func (s *sensorSet) close() error {
	if s.bench == nil {
		return nil
	}
	return s.bench.Close()
}

// runBench drives the bench's simulated peers while acquisition runs; a
// simulator that stops is logged, never a reason to stop monitoring.
func (a *Acquisition) runBench(ctx context.Context) error {
	if err := a.sensors.bench.Run(ctx); err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
		a.log.Error("sensor simulator stopped", "err", err)
	}
	return nil
}
