package pipeline

import (
	"testing"
	"time"

	"medagent/edge/alarm"
	"medagent/sensors"
	"medagent/sensors/sim"
	"medagent/telemetry"
)

// rig drives a pipeline with a simulated patient, one window at a time.
type rig struct {
	p    *Pipeline
	ecg  *sim.ECG
	ppg  *sim.PPG
	tmp  *sim.Temp
	t0   time.Time
	secs int
}

func newRig(t *testing.T, po sim.PatientOptions, ecgFaults []sim.Fault, ppgFaults ...sim.Fault) *rig {
	t.Helper()
	pat, err := sim.NewPatient(po)
	if err != nil {
		t.Fatal(err)
	}
	eo := sim.DefaultECGOptions()
	eo.Faults = ecgFaults
	r := &rig{t0: time.Unix(1_800_000_000, 0)}
	if r.ecg, err = pat.ECG(eo); err != nil {
		t.Fatal(err)
	}
	po2 := sim.DefaultPPGOptions()
	po2.Faults = ppgFaults
	if r.ppg, err = pat.PPG(po2); err != nil {
		t.Fatal(err)
	}
	if r.tmp, err = pat.Temp(sim.DefaultTempOptions()); err != nil {
		t.Fatal(err)
	}
	r.p, err = New(Config{Window: time.Second, MainsHz: 50, Alarms: alarm.Defaults(), Waveforms: []string{"ecg"}, WaveformRate: 50}, []Sensor{
		{Name: "ecg", Kind: ECG, Rate: 500, Streams: []Stream{{"mV", MDCECGLeadII}}},
		{Name: "ppg", Kind: PPG, Rate: 100, Streams: []Stream{{"1", MDCPlethRed}, {"1", MDCPlethIR}}},
		{Name: "temp", Kind: Temp, Rate: 1, Streams: []Stream{{"Cel", MDCTempBody}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func block(at time.Time, rate float64, n int) sensors.Block {
	return sensors.Block{Wall: at, Rate: rate, Samples: make([]float64, n), Valid: make([]bool, n)}
}

// second pushes one second of every sensor and flushes.
func (r *rig) second() []telemetry.Pack {
	at := r.t0.Add(time.Duration(r.secs) * time.Second)
	e := block(at, 500, 500)
	r.ecg.Read(e.Samples, e.Valid)
	r.p.Push("ecg", []sensors.Block{e})
	red, ir := block(at, 100, 100), block(at, 100, 100)
	r.ppg.Read(red.Samples, ir.Samples, red.Valid)
	copy(ir.Valid, red.Valid)
	r.p.Push("ppg", []sensors.Block{red, ir})
	tb := block(at, 1, 1)
	r.tmp.Read(tb.Samples, tb.Valid)
	r.p.Push("temp", []sensors.Block{tb})
	r.secs++
	return r.p.Flush(at.Add(time.Second))
}

func value(p telemetry.Pack, name string) (float64, bool) {
	for _, r := range p.Records {
		if r.Name == name && r.Value != nil {
			return *r.Value, true
		}
	}
	return 0, false
}

func TestVitalsMatchThePatient(t *testing.T) {
	r := newRig(t, sim.PatientOptions{Seed: 3, HeartRate: 80, HRVStd: 0.02, SpO2: 95, TempC: 37.2, RespRate: 15}, nil)
	var last []telemetry.Pack
	for i := 0; i < 30; i++ {
		last = r.second()
	}
	byStream := map[string]telemetry.Pack{}
	for _, p := range last {
		if p.Class == telemetry.ClassAlarm {
			t.Errorf("alarm for a healthy patient: %+v", p.Records)
		}
		byStream[p.Stream] = p
	}
	checks := []struct {
		stream, name string
		want, tol    float64
	}{
		{"ecg", MDCHeartRate, 80, 3},
		{"ppg", MDCPulseRate, 80, 3},
		{"ppg", MDCSpO2, 95, 1.5},
		{"temp", MDCTempBody, 37.2, 0.3},
	}
	for _, c := range checks {
		v, ok := value(byStream[c.stream], c.name)
		if !ok {
			t.Errorf("%s: no %s in %+v", c.stream, c.name, byStream[c.stream].Records)
			continue
		}
		if v < c.want-c.tol || v > c.want+c.tol {
			t.Errorf("%s = %.2f, want %.1f ± %.1f", c.name, v, c.want, c.tol)
		}
	}
	// Waveform opt-in: 50 decimated ECG samples a second, none for PPG.
	n := 0
	for _, rec := range byStream["ecg"].Records {
		if rec.Name == MDCECGLeadII {
			n++
		}
	}
	if n != 50 {
		t.Errorf("ecg pack has %d waveform samples, want 50 (500 Hz decimated to 50)", n)
	}
	if _, ok := value(byStream["ppg"], MDCPlethIR); ok {
		t.Errorf("ppg waveform published without opt-in")
	}
}

func TestDesaturationRaisesHighAlarm(t *testing.T) {
	r := newRig(t, sim.PatientOptions{Seed: 5, HeartRate: 75, SpO2: 97, TempC: 36.8, RespRate: 15,
		Changes: []sim.Change{{At: 20 * time.Second, Ramp: 5 * time.Second, SpO2: 80}}}, nil)
	var raised []telemetry.Pack
	for i := 0; i < 60; i++ {
		for _, p := range r.second() {
			if p.Class == telemetry.ClassAlarm && p.Stream == "spo2" {
				raised = append(raised, p)
			}
		}
	}
	var prios []string
	for _, p := range raised {
		for _, rec := range p.Records {
			if rec.Name == "alarm/priority" {
				prios = append(prios, rec.String)
			}
		}
	}
	high := false
	for _, a := range r.p.Active() {
		if a.Vital == alarm.SpO2 && a.Priority == alarm.High && a.Present {
			high = true
		}
	}
	if !high {
		t.Errorf("SpO2 80 %%: active alarms %+v (priorities seen %v), want a present high-priority SpO2 alarm", r.p.Active(), prios)
	}
}

func TestLeadOffIsATechnicalAlarm(t *testing.T) {
	testProbeOff(t, "tech-ecg", []sim.Fault{{Kind: sim.LeadOff, At: 10 * time.Second, For: 10 * time.Second}}, nil)
}

func TestProbeOffIsATechnicalAlarm(t *testing.T) {
	testProbeOff(t, "tech-ppg", nil, []sim.Fault{{Kind: sim.LeadOff, At: 10 * time.Second, For: 10 * time.Second}})
}

func testProbeOff(t *testing.T, stream string, ecgFaults, ppgFaults []sim.Fault) {
	r := newRig(t, sim.PatientOptions{Seed: 9, HeartRate: 70, SpO2: 97, TempC: 36.8, RespRate: 15},
		ecgFaults, ppgFaults...)
	var conds []string
	for i := 0; i < 25; i++ {
		for _, p := range r.second() {
			if p.Class != telemetry.ClassAlarm {
				continue
			}
			var event, cond, kind string
			for _, rec := range p.Records {
				switch rec.Name {
				case "alarm/event":
					event = rec.String
				case "alarm/condition":
					cond = rec.String
				case "alarm/kind":
					kind = rec.String
				}
			}
			if kind != "technical" {
				t.Errorf("%s: %s alarm %s %s during lead-off, want only technical ones", p.Stream, kind, event, cond)
			}
			if cond == "lead_off" || cond == "probe_off" {
				if p.Stream != stream {
					t.Errorf("%s on stream %q, want %s", cond, p.Stream, stream)
				}
				conds = append(conds, event)
			}
		}
	}
	if len(conds) < 2 || conds[0] != "raised" || conds[len(conds)-1] != "cleared" {
		t.Errorf("%s: off alarm events %v, want raised then cleared", stream, conds)
	}
}

func TestSilentSensorIsReported(t *testing.T) {
	r := newRig(t, sim.DefaultPatientOptions(), nil)
	packs := r.p.Flush(r.t0.Add(time.Second))
	if len(packs) != 3 {
		t.Fatalf("got %d packs without data, want one per sensor", len(packs))
	}
	for _, p := range packs {
		for _, rec := range p.Records {
			if rec.Bool != nil && *rec.Bool {
				t.Errorf("%s: %s is valid without data", p.Stream, rec.Name)
			}
		}
	}
}
