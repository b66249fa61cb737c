package agent

import (
	"fmt"

	"medagent/config"
	"medagent/sensors"
	"medagent/sensors/sim"
)

// IEEE 11073-10101 reference IDs of the raw signals.
const (
	mdcECGLeadII = "MDC_ECG_ELEC_POTL_II"
	mdcPlethRed  = "MDC_PULS_OXIM_PLETH_RED"
	mdcPlethIR   = "MDC_PULS_OXIM_PLETH_IR"
	mdcTempBody  = "MDC_TEMP_BODY"
)

// openSources opens one source per configured sensor, in config order.
// All sim-* sensors share one simulated patient, so their heart agrees.
func openSources(cfg config.Config) ([]source, error) {
	s := cfg.Sim
	p, err := sim.NewPatient(sim.PatientOptions{
		Seed: s.Seed, HeartRate: s.HeartRate, HRVStd: s.HRVStd, SpO2: s.SpO2,
		TempC: s.TempC, RespRate: s.RespRate, LFHFRatio: sim.DefaultLFHFRatio,
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

func (s *simECG) streams() []streamInfo {
	return []streamInfo{{name: "II", unit: "mV", mdc: mdcECGLeadII}}
}

func (s *simECG) fill(b []sensors.Block, n int) { fillOne(&b[0], n, s.e.Read) }

type simTemp struct{ t *sim.Temp }

func (s *simTemp) streams() []streamInfo {
	return []streamInfo{{name: "body", unit: "Cel", mdc: mdcTempBody}}
}

func (s *simTemp) fill(b []sensors.Block, n int) { fillOne(&b[0], n, s.t.Read) }

type simPPG struct {
	g *sim.PPG
}

func (s *simPPG) streams() []streamInfo {
	return []streamInfo{
		{name: "red", unit: "1", mdc: mdcPlethRed},
		{name: "ir", unit: "1", mdc: mdcPlethIR},
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
