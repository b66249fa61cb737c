package acquire

import (
	"strings"

	"medagent/edge/alarm"
	"medagent/edge/pipeline"
	"medagent/sensors"
	"medagent/telemetry"
)

// simulated knows which streams come from the simulators behind bus "sim"
// (bench builds only), so that every pack made from them says so
// (telemetry.Pack.Simulated, "sim" in SenML): simulated data is never
// taken for a patient's.
type simulated struct {
	sensors map[string]bool      // sensor names on bus sim
	vitals  map[alarm.Vital]bool // vitals derived from a simulated sensor
}

// vitalKinds are the sensor kinds each vital may be derived from.
var vitalKinds = map[alarm.Vital][]pipeline.Kind{
	alarm.HR:        {pipeline.ECG},
	alarm.PulseRate: {pipeline.PPG, pipeline.Oximeter},
	alarm.SpO2:      {pipeline.PPG, pipeline.Oximeter},
	alarm.Temp:      {pipeline.Temp},
}

// newSimulated marks the sensors whose bus is "sim" and the vitals that a
// sensor of theirs' kind feeds.
func newSimulated(entries []sensors.Config, set *sensorSet) simulated {
	s := simulated{sensors: map[string]bool{}, vitals: map[alarm.Vital]bool{}}
	kinds := map[pipeline.Kind]bool{}
	for i, c := range entries {
		if sensors.IsSim(c.Bus) {
			s.sensors[c.Name] = true
			kinds[pipeline.Kind(set.srcs[i].Kind)] = true
		}
	}
	for v, ks := range vitalKinds {
		for _, k := range ks {
			if kinds[k] {
				s.vitals[v] = true
			}
		}
	}
	return s
}

// mark sets p.Simulated when p comes from a simulated sensor: its own
// stream (telemetry, sensor events), a technical alarm of it, or a
// physiological alarm of a vital a simulated sensor feeds.
func (s simulated) mark(p *telemetry.Pack) {
	if len(s.sensors) == 0 {
		return
	}
	name := p.Stream
	if p.Class == telemetry.ClassAlarm {
		name = strings.TrimPrefix(name, "tech-")
		if s.vitals[alarm.Vital(name)] {
			p.Simulated = true
			return
		}
		name, _, _ = strings.Cut(name, ".")
	}
	if s.sensors[name] {
		p.Simulated = true
	}
}
