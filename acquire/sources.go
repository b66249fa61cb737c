package acquire

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"medagent/config"
	"medagent/edge/pipeline"
	"medagent/hal"
	"medagent/hal/halsim"
	"medagent/sensors"
	"medagent/sensors/sim"
)

// sourceSet is the configured sensors and the simulators behind "sim".
type sourceSet struct {
	srcs []source
	rig  *halsim.Rig // nil when no real driver runs on bus sim
	tmp  string      // directory of the simulated oximeter's pty link
}

func (s *sourceSet) close() error {
	var err error
	if s.rig != nil {
		err = s.rig.Close()
	}
	if s.tmp != "" {
		err = errors.Join(err, os.RemoveAll(s.tmp))
	}
	return err
}

// openSources prepares one source per configured sensor, in config order.
// Every sim-* generator and every simulated chip (bus sim) is fed by one
// simulated patient, so their hearts agree; clock is the chips' time.
func openSources(sensors []config.Sensor, s config.Sim, clock func() time.Duration) (*sourceSet, error) {
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
	set := &sourceSet{}
	if set.rig, set.tmp, err = newRig(p, sensors, s, clock); err != nil {
		return nil, err
	}
	for i, sc := range sensors {
		var src source
		if sc.IsSim() {
			src, err = openGenerator(p, s, sc)
		} else {
			src, err = newDriverSource(sc, set.rig, clock)
		}
		if err != nil {
			set.close()
			return nil, fmt.Errorf("sensors[%d] %q: %w", i, sc.Name, err)
		}
		set.srcs = append(set.srcs, src)
	}
	return set, nil
}

// declare describes the sources to the edge pipeline, in config order.
func (s *sourceSet) declare(sensors []config.Sensor) []pipeline.Sensor {
	var decl []pipeline.Sensor
	for i, sc := range sensors {
		ps := pipeline.Sensor{Name: sc.Name, Kind: s.srcs[i].kind(), Rate: s.srcs[i].rate()}
		for _, st := range s.srcs[i].streams() {
			ps.Streams = append(ps.Streams, st.Stream)
		}
		decl = append(decl, ps)
	}
	return decl
}

// newRig builds the register-level simulators when a real driver is on
// bus sim, at the rates those sensors are configured for.
func newRig(p *sim.Patient, sensors []config.Sensor, s config.Sim, clock func() time.Duration) (*halsim.Rig, string, error) {
	o := halsim.Options{Patient: p, Clock: clock, ECG: ecgOptions(s), PPG: sim.DefaultPPGOptions(), Temp: sim.DefaultTempOptions()}
	used := map[string]string{}
	var tmp string
	for i, sc := range sensors {
		if sc.IsSim() || sc.Bus != hal.SimName {
			continue
		}
		h := sc.HAL()
		chip := h.Driver
		if chip == hal.DriverMAX30101 {
			chip = hal.DriverMAX30102
		}
		// One simulated chip of each kind, at the default address; an
		// I2C sensor at another address finds no chip there (NACK).
		if chip == hal.DriverTMP117 && h.Address != halsim.TMP117Addr {
			continue
		}
		if prev, ok := used[chip]; ok {
			return nil, "", fmt.Errorf("sensors[%d] %q: the simulator has one %s, already used by %q", i, sc.Name, chip, prev)
		}
		used[chip] = sc.Name
		switch chip {
		case hal.DriverADS1292R:
			o.ECGRate = def(sc.Rate, 500)
		case hal.DriverMAX30102:
			o.PPGRate = def(sc.Rate, 100)
		case hal.DriverTMP117:
			o.TempRate = def(sc.Rate, 1)
		case hal.DriverNonin:
			d, err := os.MkdirTemp("", "medagent-nonin-")
			if err != nil {
				return nil, "", fmt.Errorf("sim: nonin: %w", err)
			}
			tmp, o.NoninLink = d, filepath.Join(d, "tty")
		}
	}
	if len(used) == 0 && !onSim(sensors) {
		return nil, "", nil
	}
	r, err := halsim.New(o)
	if err != nil {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
		return nil, "", fmt.Errorf("sim: %w", err)
	}
	return r, tmp, nil
}

// onSim reports whether a real driver is configured on bus sim.
func onSim(sensors []config.Sensor) bool {
	for _, sc := range sensors {
		if !sc.IsSim() && sc.Bus == hal.SimName {
			return true
		}
	}
	return false
}

func def(v, d float64) float64 {
	if v == 0 {
		return d
	}
	return v
}

// sensorRate is the rate of the samples a sensor delivers.
func sensorRate(h hal.SensorConfig) float64 {
	switch h.Driver {
	case hal.DriverADS1292R:
		return def(h.Rate, 500)
	case hal.DriverMAX30101, hal.DriverMAX30102:
		avg, _ := strconv.Atoi(h.Options["averaging"]) // validated
		return def(h.Rate, 100) / float64(max(avg, 1))
	case hal.DriverTMP117:
		return def(h.Rate, 1)
	}
	return 75 // nonin
}

func ecgOptions(s config.Sim) sim.ECGOptions {
	o := sim.DefaultECGOptions()
	o.NoiseMV, o.WanderMV, o.MainsHz, o.MainsMV = s.NoiseMV, s.WanderMV, s.MainsHz, s.MainsMV
	if o.MainsHz == 0 {
		o.MainsMV = 0
	}
	return o
}

// openGenerator returns a sim-* source: a pure generator of the patient's
// signals that never fails.
func openGenerator(p *sim.Patient, s config.Sim, sc config.Sensor) (source, error) {
	g := &generator{r: sc.Rate}
	switch sc.Driver {
	case "sim-ecg":
		o := ecgOptions(s)
		o.Rate = sc.Rate
		e, err := p.ECG(o)
		if err != nil {
			return nil, err
		}
		g.k, g.fill = pipeline.ECG, func(b []sensors.Block, n int) { fillOne(&b[0], n, e.Read) }
		g.st = []streamInfo{{"II", pipeline.Stream{Unit: "mV", MDC: pipeline.MDCECGLeadII}}}
	case "sim-ppg":
		o := sim.DefaultPPGOptions()
		o.Rate = sc.Rate
		pp, err := p.PPG(o)
		if err != nil {
			return nil, err
		}
		g.k, g.st = pipeline.PPG, ppgStreams
		g.fill = func(b []sensors.Block, n int) {
			red, ir := grow(&b[0], n), grow(&b[1], n)
			pp.Read(red.s, ir.s, red.v)
			copy(ir.v, red.v)
		}
	case "sim-temp":
		o := sim.DefaultTempOptions()
		o.Rate = sc.Rate
		t, err := p.Temp(o)
		if err != nil {
			return nil, err
		}
		g.k, g.st = pipeline.Temp, tempStreams
		g.fill = func(b []sensors.Block, n int) { fillOne(&b[0], n, t.Read) }
	default:
		return nil, fmt.Errorf("unknown driver %q", sc.Driver)
	}
	return g, nil
}

var (
	ppgStreams = []streamInfo{
		{"red", pipeline.Stream{Unit: "1", MDC: pipeline.MDCPlethRed}},
		{"ir", pipeline.Stream{Unit: "1", MDC: pipeline.MDCPlethIR}},
	}
	tempStreams = []streamInfo{{"body", pipeline.Stream{Unit: "Cel", MDC: pipeline.MDCTempBody}}}
	ecgStreams  = []streamInfo{{"II", pipeline.Stream{Unit: "mV", MDC: pipeline.MDCECGLeadII}}}
)

// generator is a sim-* source; its device produces what is due by the
// clock since it was opened.
type generator struct {
	k        pipeline.Kind
	st       []streamInfo
	r        float64
	fill     func(b []sensors.Block, n int)
	start    time.Duration
	started  bool
	produced int64
}

func (g *generator) kind() pipeline.Kind   { return g.k }
func (g *generator) streams() []streamInfo { return g.st }
func (g *generator) rate() float64         { return g.r }
func (g *generator) paced() bool           { return false }
func (g *generator) open() (device, error) { return g, nil }
func (g *generator) close() error          { return nil }

func (g *generator) read(b []sensors.Block, now time.Duration) (readStatus, error) {
	if !g.started {
		g.start, g.started = now, true
	}
	due := int64((now-g.start).Seconds()*g.r) - g.produced
	if due > 0 {
		g.fill(b, int(due))
		g.produced += due
	}
	return readStatus{}, nil
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
