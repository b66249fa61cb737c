package acquire

import (
	"testing"

	"medagent/sensors"
	"medagent/telemetry"
)

// Packs made from simulators say so; packs of real sensors do not. A
// bench with a simulated ECG beside a real thermometer (as in the QEMU
// bench image) marks the ECG's telemetry, events and alarms, and the heart
// rate's, never the temperature's.
func TestSimulatedMarking(t *testing.T) {
	entries := []sensors.Config{
		{Name: "ecg", Bus: sensors.SimBus},
		{Name: "temp", Bus: "/dev/i2c-1"},
		{Name: "oxi", Bus: "sim:nonin"},
	}
	set := &sensorSet{srcs: []sensors.Source{{Kind: "ecg"}, {Kind: "temp"}, {Kind: "oximeter"}}}
	sim := newSimulated(entries, set)
	cases := []struct {
		class  telemetry.Class
		stream string
		want   bool
	}{
		{telemetry.ClassTelemetry, "ecg", true},
		{telemetry.ClassEvent, "ecg", true},
		{telemetry.ClassTelemetry, "temp", false},
		{telemetry.ClassEvent, "temp", false},
		{telemetry.ClassAlarm, "hr", true},   // heart rate comes from the simulated ECG
		{telemetry.ClassAlarm, "spo2", true}, // from the simulated oximeter
		{telemetry.ClassAlarm, "temp", false},
		{telemetry.ClassAlarm, "tech-ecg", true},
		{telemetry.ClassAlarm, "tech-ecg.lead", true},
		{telemetry.ClassAlarm, "tech-temp", false},
		{telemetry.ClassEvent, "clock", false},
	}
	for _, c := range cases {
		p := telemetry.Pack{Class: c.class, Stream: c.stream}
		sim.mark(&p)
		if p.Simulated != c.want {
			t.Errorf("%s/%s: simulated %v, want %v", c.class, c.stream, p.Simulated, c.want)
		}
	}
	real := newSimulated(entries[1:2], &sensorSet{srcs: set.srcs[1:2]})
	p := telemetry.Pack{Class: telemetry.ClassAlarm, Stream: "hr"}
	if real.mark(&p); p.Simulated {
		t.Error("a device without simulators marked a pack simulated")
	}
}
