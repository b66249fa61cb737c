package simrig

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"medagent/config"
	"medagent/sensors"
	"medagent/sensors/registry"
	"medagent/sensors/sim"
)

// ForSensors builds the rig behind the sensor entries on bus "sim": one
// simulated patient (the sim: section) feeds every chip, at the rates
// those entries configure; clock is the chips' time. There is one
// simulated chip of each kind, the TMP117 at 0x48 (an entry at another
// address finds no chip there: NACK), the oximeter on a pty in a fresh
// temporary directory that Close removes.
func ForSensors(entries []sensors.Config, s config.Sim, clock func() time.Duration) (*Rig, error) {
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
	o := Options{Patient: p, Clock: clock, ECG: ecgOptions(s), PPG: sim.DefaultPPGOptions(), Temp: sim.DefaultTempOptions()}
	used := map[string]string{}
	var tmp string
	for i, c := range entries {
		if c.Bus != sensors.SimBus {
			continue
		}
		d, ok := registry.Lookup(c.Driver)
		if !ok {
			return nil, fmt.Errorf("sensors[%d] %q: unknown driver %q", i, c.Name, c.Driver)
		}
		if d.Name == "tmp117" && c.Address != TMP117Addr {
			continue
		}
		if prev, ok := used[d.Name]; ok {
			return nil, fmt.Errorf("sensors[%d] %q: the simulator has one %s, already used by %q", i, c.Name, d.Name, prev)
		}
		used[d.Name] = c.Name
		switch d.Name {
		case "ads1292":
			o.ECGRate = def(c.Rate, 500)
		case "max3010x":
			o.PPGRate = def(c.Rate, 100)
		case "tmp117":
			o.TempRate = def(c.Rate, 1)
		case "nonin":
			if tmp, err = os.MkdirTemp("", "medagent-nonin-"); err != nil {
				return nil, fmt.Errorf("sim: nonin: %w", err)
			}
			o.NoninLink = filepath.Join(tmp, "tty")
		default:
			return nil, fmt.Errorf("sensors[%d] %q: no simulator for the %s", i, c.Name, d.Name)
		}
	}
	r, err := New(o)
	if err != nil {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
		return nil, fmt.Errorf("sim: %w", err)
	}
	r.tmp = tmp
	return r, nil
}

func ecgOptions(s config.Sim) sim.ECGOptions {
	o := sim.DefaultECGOptions()
	o.NoiseMV, o.WanderMV, o.MainsHz, o.MainsMV = s.NoiseMV, s.WanderMV, s.MainsHz, s.MainsMV
	if o.MainsHz == 0 {
		o.MainsMV = 0
	}
	return o
}

// removeTmp removes the oximeter's temporary directory, if any.
func (r *Rig) removeTmp() error {
	if r.tmp == "" {
		return nil
	}
	return os.RemoveAll(r.tmp)
}
