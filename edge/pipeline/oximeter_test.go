package pipeline

import (
	"testing"
	"time"

	"medagent/edge/alarm"
	"medagent/sensors"
	"medagent/telemetry"
)

// An Oximeter sensor reports the device's last valid SpO2 and pulse rate,
// flags them invalid when the device has none, and raises probe off when
// most of the window's pleth is invalid.
func TestOximeterKind(t *testing.T) {
	p, err := New(Config{Window: time.Second, Alarms: alarm.Defaults()}, []Sensor{{Name: "oxi", Kind: Oximeter, Rate: 75,
		Streams: []Stream{{"%", MDCSpO2}, {"1/min", MDCPulseRate}, {"1", MDCPleth}}}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_800_000_000, 0)
	push := func(at time.Time, spo2, pr float64, ok, plethOK bool) {
		b := make([]sensors.Block, 3)
		for i := range b {
			b[i] = sensors.Block{Wall: at, Rate: 75}
		}
		for range 75 {
			b[0].Append(spo2, ok)
			b[1].Append(pr, ok)
			b[2].Append(128, plethOK)
		}
		p.Push("oxi", b)
	}
	values := func(packs []telemetry.Pack) (map[string]float64, map[string]bool, bool) {
		v, valid, probeOff := map[string]float64{}, map[string]bool{}, false
		for _, pk := range packs {
			for _, r := range pk.Records {
				if r.Value != nil && pk.Class == telemetry.ClassTelemetry {
					v[r.Name] = *r.Value
				}
				if r.Bool != nil {
					valid[r.Name] = *r.Bool
				}
			}
			if pk.Class == telemetry.ClassAlarm && len(pk.Records) > 0 {
				for _, r := range pk.Records {
					if r.String == string(alarm.ProbeOff) {
						probeOff = true
					}
				}
			}
		}
		return v, valid, probeOff
	}
	push(t0, 96, 71, true, true)
	v, valid, _ := values(p.Flush(t0.Add(time.Second)))
	if v[MDCSpO2] != 96 || v[MDCPulseRate] != 71 || !valid[MDCSpO2+"/valid"] || !valid[MDCPulseRate+"/valid"] {
		t.Fatalf("values %v valid %v, want SpO2 96, PR 71, both valid", v, valid)
	}
	var off bool
	for i := 1; i < 12 && !off; i++ {
		push(t0.Add(time.Duration(i)*time.Second), 0, 0, false, false)
		v, valid, off = values(p.Flush(t0.Add(time.Duration(i+1) * time.Second)))
		if _, ok := v[MDCSpO2]; ok || valid[MDCSpO2+"/valid"] {
			t.Fatalf("second %d: SpO2 %v reported while the device has none", i, v)
		}
	}
	if !off {
		t.Fatal("no probe-off alarm while the pleth was invalid for 11 s")
	}
}
