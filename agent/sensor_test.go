package agent

import (
	"math"
	"testing"
	"time"

	"medagent/config"
	"medagent/edge/pipeline"
	"medagent/telemetry"
)

// vitals flushes the harness pipeline and returns value records by
// sensor and name.
func (h *harness) vitals() map[string]map[string]float64 {
	h.mu.Lock()
	packs := h.p.Flush(time.Now())
	h.mu.Unlock()
	out := map[string]map[string]float64{}
	for _, p := range packs {
		if p.Class != telemetry.ClassTelemetry {
			continue
		}
		m := map[string]float64{}
		for _, r := range p.Records {
			if r.Value != nil {
				m[r.Name] = *r.Value
			}
		}
		out[p.Stream] = m
	}
	return out
}

// The agent acquires from every real driver on its simulator (bus sim)
// and the pipeline reports the simulated patient's vitals.
func TestRealDriversOnSimReportVitals(t *testing.T) {
	h := newHarness(t, []config.Sensor{ecgSensor, ppgSensor, tempSensor, noninSensor}, nil)
	h.start()
	time.Sleep(7 * time.Second)
	h.stop()
	v := h.vitals()
	check := func(sensor, name string, want, tol float64) {
		t.Helper()
		got, ok := v[sensor][name]
		if !ok {
			t.Errorf("%s: no %s in %v", sensor, name, v[sensor])
			return
		}
		if math.Abs(got-want) > tol {
			t.Errorf("%s: %s = %v, want %v ± %v", sensor, name, got, want, tol)
		}
	}
	// config.Default().Sim: HR 72, SpO2 97, 36.8 °C.
	check("ecg", pipeline.MDCHeartRate, 72, 8)
	check("ppg", pipeline.MDCSpO2, 97, 2)
	check("ppg", pipeline.MDCPulseRate, 72, 8)
	check("temp", pipeline.MDCTempBody, 36.8, 0.2)
	check("oxi", pipeline.MDCSpO2, 97, 1)
	check("oxi", pipeline.MDCPulseRate, 72, 3)

	for i, s := range h.smp {
		name := h.cfg.Sensors[i].Name
		// On a loaded machine a read can come too late (the ADS1292R
		// keeps one frame, the MAX3010x FIFO 320 ms): the loss is
		// reported, and is the only event allowed without a fault.
		for _, e := range h.spool.events(name) {
			if e.cond != s.lossCond || e.nums["event/lost"] <= 0 {
				t.Errorf("%s: event without a fault: %+v", name, e)
			}
		}
		c := h.got(name)
		if len(c.blocks) == 0 {
			t.Fatalf("%s: no frames", name)
		}
		n, valid := c.counts(0, 0)
		// Every block is stamped with the rate and a monotonic time that
		// continues exactly where the previous block ended.
		next := c.blocks[0][0].Mono
		for k, b := range c.blocks {
			for j := range b {
				if b[j].Rate != s.rate || b[j].Mono != b[0].Mono || len(b[j].Samples) != len(b[0].Samples) {
					t.Fatalf("%s frame %d stream %d: rate %v mono %v len %d, want rate %v and the first stream's mono and length",
						name, k, j, b[j].Rate, b[j].Mono, len(b[j].Samples), s.rate)
				}
			}
			if d := b[0].Mono - next; d < -time.Microsecond || d > time.Microsecond {
				t.Fatalf("%s frame %d starts at %v, want %v (continuous)", name, k, b[0].Mono, next)
			}
			next = b[0].Mono + s.dur(len(b[0].Samples))
		}
		// About 7 s of samples, lost ones included as invalid; most
		// valid (how many are lost depends on the machine's load).
		want := 7 * s.rate
		if float64(n) < 0.85*want || float64(n) > 1.05*want {
			t.Errorf("%s: %d samples in 7 s at %v/s", name, n, s.rate)
		}
		if float64(valid) < 0.5*float64(n) {
			t.Errorf("%s: only %d of %d samples valid", name, valid, n)
		}
	}
}
