package agent

import (
	"fmt"

	"medagent/config"
	"medagent/edge/pipeline"
	"medagent/sensors"
	"medagent/sensors/sim"
)

// openSources opens one source per configured sensor, in config order.
// All sim-* sensors share one simulated patient, so their heart agrees.
func openSources(cfg config.Config) ([]source, error) {
	s := cfg.Sim
	var changes []sim.Change
	for _, c := range s.Changes {
		changes = append(changes, sim.Change{At: c.At, Ramp: c.Ramp, HeartRate: c.HeartRate, SpO2: c.SpO2, TempC: c.TempC})
	}
	p, err := sim.NewPatient(sim.PatientOptions{
		Seed: s.Seed, HeartRate: s.HeartRate, HRVStd: s.HRVStd, SpO2: s.SpO2,
		TempC: s.TempC, RespRate: s.RespRate, LFHFRatio: sim.DefaultLFHFRatio, Changes: changes,
	})
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	var out []source
	for i, sc := range cfg.Sensors {
		src, err := openSim(p, cfg.Sim, sc)
		if err != nil {
			return nil, fmt.Errorf("sensors[%d] %q: %w", i, sc.Name, err)
		}
		out = append(out, src)
	}
	return out, nil
}

func openSim(p *sim.Patient, s config.Sim, sc config.Sensor) (source, error) {
	switch sc.Driver {
	case "sim-ecg":
		o := sim.DefaultECGOptions()
		o.Rate, o.NoiseMV, o.WanderMV, o.MainsHz, o.MainsMV = sc.Rate, s.NoiseMV, s.WanderMV, s.MainsHz, s.MainsMV
		if o.MainsHz == 0 {
			o.MainsMV = 0
		}
		e, err := p.ECG(o)
		if err != nil {
			return nil, err
		}
		return &simECG{e}, nil
	case "sim-ppg":
		o := sim.DefaultPPGOptions()
		o.Rate = sc.Rate
		g, err := p.PPG(o)
		if err != nil {
			return nil, err
		}
		return &simPPG{g: g}, nil
	case "sim-temp":
		o := sim.DefaultTempOptions()
		o.Rate = sc.Rate
		t, err := p.Temp(o)
		if err != nil {
			return nil, err
		}
		return &simTemp{t}, nil
	}
	return nil, fmt.Errorf("unknown driver %q", sc.Driver)
}

type simECG struct{ e *sim.ECG }

func (s *simECG) kind() pipeline.Kind { return pipeline.ECG }

func (s *simECG) streams() []streamInfo {
	return []streamInfo{{"II", pipeline.Stream{Unit: "mV", MDC: pipeline.MDCECGLeadII}}}
}

func (s *simECG) fill(b []sensors.Block, n int) { fillOne(&b[0], n, s.e.Read) }

type simTemp struct{ t *sim.Temp }

func (s *simTemp) kind() pipeline.Kind { return pipeline.Temp }

func (s *simTemp) streams() []streamInfo {
	return []streamInfo{{"body", pipeline.Stream{Unit: "Cel", MDC: pipeline.MDCTempBody}}}
}

func (s *simTemp) fill(b []sensors.Block, n int) { fillOne(&b[0], n, s.t.Read) }

type simPPG struct {
	g *sim.PPG
}

func (s *simPPG) kind() pipeline.Kind { return pipeline.PPG }

func (s *simPPG) streams() []streamInfo {
	return []streamInfo{
		{"red", pipeline.Stream{Unit: "1", MDC: pipeline.MDCPlethRed}},
		{"ir", pipeline.Stream{Unit: "1", MDC: pipeline.MDCPlethIR}},
	}
}

func (s *simPPG) fill(b []sensors.Block, n int) {
	red, ir := grow(&b[0], n), grow(&b[1], n)
	s.g.Read(red.s, ir.s, red.v)
	copy(ir.v, red.v)
}

// fillOne appends n samples read by read to b.
func fillOne(b *sensors.Block, n int, read func([]float64, []bool) int) {
	g := grow(b, n)
	read(g.s, g.v)
}

type tail struct {
	s []float64
	v []bool
}

// grow extends b by n samples and returns the new tail to fill.
func grow(b *sensors.Block, n int) tail {
	l := len(b.Samples)
	b.Samples = append(b.Samples, make([]float64, n)...)
	b.Valid = append(b.Valid, make([]bool, n)...)
	return tail{b.Samples[l:], b.Valid[l:]}
}
