package acquire

import (
	"math"
	"testing"
	"testing/synctest"
	"time"

	"medagent/edge/pipeline"
	"medagent/sensors"
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

// Acquisition runs every real driver on its register-level simulator
// (bus sim) for 7 s of the bubble's time, and the pipeline reports the
// simulated patient's vitals.
func TestRealDriversOnSimReportVitals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, []sensors.Config{ecgSensor, ppgSensor, tempSensor}, nil)
		h.start()
		time.Sleep(7 * time.Second)
		h.stop()
		v := h.vitals()
		// config.Default().Sim: HR 72, SpO2 97, 36.8 °C.
		checkVital(t, v, "ecg", pipeline.MDCHeartRate, 72, 8)
		checkVital(t, v, "ppg", pipeline.MDCSpO2, 97, 2)
		checkVital(t, v, "ppg", pipeline.MDCPulseRate, 72, 8)
		checkVital(t, v, "temp", pipeline.MDCTempBody, 36.8, 0.2)
		h.checkStreams(7 * time.Second)
	})
}

// The Nonin oximeter on its simulated pty reports the patient's SpO2 and
// pulse rate. A pty is real I/O, so this one runs in real time.
func TestNoninOnSimReportsVitals(t *testing.T) {
	h := newHarness(t, []sensors.Config{noninSensor}, nil)
	h.start()
	time.Sleep(3 * time.Second)
	h.stop()
	v := h.vitals()
	checkVital(t, v, "oxi", pipeline.MDCSpO2, 97, 1)
	checkVital(t, v, "oxi", pipeline.MDCPulseRate, 72, 3)
	h.checkStreams(3 * time.Second)
}

func checkVital(t *testing.T, v map[string]map[string]float64, sensor, name string, want, tol float64) {
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

// checkStreams checks what every sampler sent during d: blocks stamped
// with the rate and a monotonic time continuing exactly where the
// previous block ended, about d of samples (lost ones included as
// invalid), most of them valid, and no event but a reported loss.
func (h *harness) checkStreams(d time.Duration) {
	t := h.t
	t.Helper()
	for i, s := range h.smp {
		name := h.cfg.Sensors[i].Name
		// On a loaded machine a read can come too late (the ADS1292R
		// keeps one frame, the MAX3010x FIFO 320 ms): the loss is
		// reported, and is the only event allowed without a fault.
		for _, e := range h.spool.events(name) {
			if e.cond != s.src.Loss || e.nums["event/lost"] <= 0 {
				t.Errorf("%s: event without a fault: %+v", name, e)
			}
		}
		c := h.got(name)
		if len(c.blocks) == 0 {
			t.Fatalf("%s: no frames", name)
		}
		n, valid := c.counts(0, 0)
		next := c.blocks[0][0].Mono
		for k, b := range c.blocks {
			for j := range b {
				if b[j].Rate != s.src.Rate || b[j].Mono != b[0].Mono || len(b[j].Samples) != len(b[0].Samples) {
					t.Fatalf("%s frame %d stream %d: rate %v mono %v len %d, want rate %v and the first stream's mono and length",
						name, k, j, b[j].Rate, b[j].Mono, len(b[j].Samples), s.src.Rate)
				}
			}
			if d := b[0].Mono - next; d < -time.Microsecond || d > time.Microsecond {
				t.Fatalf("%s frame %d starts at %v, want %v (continuous)", name, k, b[0].Mono, next)
			}
			next = b[0].Mono + s.dur(len(b[0].Samples))
		}
		want := d.Seconds() * s.src.Rate
		if float64(n) < 0.85*want || float64(n) > 1.05*want {
			t.Errorf("%s: %d samples in %v at %v/s", name, n, d, s.src.Rate)
		}
		if float64(valid) < 0.5*float64(n) {
			t.Errorf("%s: only %d of %d samples valid", name, valid, n)
		}
	}
}
