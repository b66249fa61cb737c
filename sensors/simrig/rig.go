package simrig

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"medagent/sensors/ads1292"
	"medagent/sensors/ads1292/ads1292sim"
	"medagent/sensors/max3010x"
	"medagent/sensors/max3010x/max3010xsim"
	"medagent/sensors/nonin"
	"medagent/sensors/nonin/noninsim"
	"medagent/sensors/sim"
	"medagent/sensors/tmp117/tmp117sim"
)

// Names under which the rig registers its simulated lines and addresses.
const (
	TMP117Addr  = 0x48
	PinMAXInt   = "max-int"      // open as "sim:max-int"
	PinTMPAlert = "tmp117-alert" // open as "sim:tmp117-alert"
	PinADSDRDY  = "ads-drdy"     // open as "sim:ads-drdy"
)

// Options configures a Rig.
type Options struct {
	// Patient is the simulated patient; required.
	Patient *sim.Patient
	// Clock is the simulators' time; required. The demo passes time since
	// start; tests pass a manual clock.
	Clock func() time.Duration
	// Rates in samples per second; each must match the driver's
	// configured rate. Zero takes the driver defaults: ECG 500, PPG 100,
	// temperature 1 (TMP117 CONV=100, AVG=01).
	ECGRate, PPGRate, TempRate float64
	// ECG, PPG and Temp tune the streams (their Rate is overwritten).
	ECG  sim.ECGOptions
	PPG  sim.PPGOptions
	Temp sim.TempOptions
	// NoninLink, when set, creates a simulated Nonin oximeter on a pty
	// behind this symlink path.
	NoninLink string
}

// Rig is a set of simulated chips fed by one patient.
type Rig struct {
	bus    *simBus
	TMP117 *tmp117sim.Chip
	MAX    *max3010xsim.Chip
	ADS    *ads1292sim.Chip
	Nonin  *noninsim.Oximeter // nil without Options.NoninLink
	tmp    string             // made by ForSensors for the oximeter's link
}

// New builds the rig.
func New(o Options) (*Rig, error) {
	if o.Patient == nil || o.Clock == nil {
		return nil, errors.New("simrig: Options.Patient and Options.Clock are required")
	}
	o.ECG.Rate = def(o.ECGRate, 500)
	o.PPG.Rate = def(o.PPGRate, 100)
	o.Temp.Rate = def(o.TempRate, 1)
	ecg, err := o.Patient.ECG(o.ECG)
	if err != nil {
		return nil, fmt.Errorf("simrig: ECG: %w", err)
	}
	ppg, err := o.Patient.PPG(o.PPG)
	if err != nil {
		return nil, fmt.Errorf("simrig: PPG: %w", err)
	}
	temp, err := o.Patient.Temp(o.Temp)
	if err != nil {
		return nil, fmt.Errorf("simrig: temperature: %w", err)
	}
	r := &Rig{bus: newSimBus()}
	r.TMP117 = tmp117sim.New(TMP117Addr, &tmp117sim.Opts{Clock: o.Clock, Wave: TempWave(temp)})
	r.MAX = max3010xsim.New(&max3010xsim.Opts{Clock: o.Clock, Wave: PPGWave(ppg)})
	r.ADS = ads1292sim.New(&ads1292sim.Opts{Clock: o.Clock, Wave: ECGWave(ecg), LeadOff: func() uint8 {
		if ecg.LeadOff() {
			return ads1292.LeadOffIN2P
		}
		return 0
	}})
	r.bus.i2c[TMP117Addr] = r.TMP117
	r.bus.i2c[max3010x.Addr] = r.MAX
	r.bus.spi[""] = r.ADS
	r.bus.pins[PinMAXInt] = r.MAX.IntPin()
	r.bus.pins[PinTMPAlert] = r.TMP117.AlertPin()
	r.bus.pins[PinADSDRDY] = r.ADS.DRDY()
	if o.NoninLink != "" {
		pp := o.PPG
		pp.Rate = nonin.FramesPerSecond
		pleth, err := o.Patient.PPG(pp)
		if err != nil {
			return nil, fmt.Errorf("simrig: Nonin pleth: %w", err)
		}
		p := o.Patient
		r.Nonin, err = noninsim.New(&noninsim.Opts{Link: o.NoninLink, Wave: PlethWave(pleth), Clock: o.Clock,
			Numerics: func(t time.Duration) (int, int) {
				sp := p.SetPoint(t)
				return int(math.Round(sp.HeartRate)), int(math.Round(sp.SpO2))
			}})
		if err != nil {
			return nil, err
		}
		r.bus.serial = r.Nonin.Path()
	}
	r.bus.clock = o.Clock
	return r, nil
}

func def(v, d float64) float64 {
	if v == 0 {
		return d
	}
	return v
}

// Run drives the simulated peers that need a goroutine (the oximeter
// writing its frames on the pty) until ctx ends.
func (r *Rig) Run(ctx context.Context) error {
	if r.Nonin == nil {
		<-ctx.Done()
		return nil
	}
	return r.Nonin.Run(ctx)
}

// Close releases the Nonin pty.
func (r *Rig) Close() error {
	var err error
	if r.Nonin != nil {
		err = r.Nonin.Close()
	}
	return errors.Join(err, r.removeTmp())
}

// scratch is the valid-flag buffer the adapters hand to sim streams; the
// chip simulators ask for at most 32 samples at a time.
type scratch [32]bool

// TempWave adapts a temperature stream to the TMP117 simulator.
func TempWave(s *sim.Temp) tmp117sim.Waveform {
	var v scratch
	return func(dst []float64) {
		for len(dst) > 0 {
			n := s.Read(dst, v[:min(len(dst), len(v))])
			dst = dst[n:]
		}
	}
}

// PPGWave adapts a red/IR stream to the MAX3010x simulator.
func PPGWave(s *sim.PPG) max3010xsim.Waveform {
	var v scratch
	return func(red, ir []float64) {
		for len(red) > 0 {
			n := s.Read(red, ir, v[:min(len(red), len(v))])
			red, ir = red[n:], ir[n:]
		}
	}
}

// ECGWave puts an ECG stream (mV) on the ADS1292R's channel 2 and leaves
// channel 1 (respiration) at 0 mV.
func ECGWave(s *sim.ECG) ads1292sim.Waveform {
	var v scratch
	return func(ch1, ch2 []float64) {
		clear(ch1)
		for len(ch2) > 0 {
			n := s.Read(ch2, v[:min(len(ch2), len(v))])
			ch2 = ch2[n:]
		}
	}
}

// PlethWave turns an IR stream into an 8-bit pleth (0..255) the way an
// oximeter displays it: AC-coupled by a slow running mean, inverted (more
// blood absorbs more light) and scaled so a 2 % perfusion index spans
// about ±100.
func PlethWave(s *sim.PPG) noninsim.Waveform {
	var v scratch
	var red [1]float64
	mean := 0.0
	return func(dst []float64) {
		for i := range dst {
			var ir [1]float64
			s.Read(red[:], ir[:], v[:1])
			if mean == 0 {
				mean = ir[0]
			}
			mean += (ir[0] - mean) / 150 // ~2 s at 75 Hz
			dst[i] = 128 - (ir[0]-mean)/(0.01*mean)*100
		}
	}
}
