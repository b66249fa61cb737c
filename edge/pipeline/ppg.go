package pipeline

import (
	"math"
	"time"

	"medagent/edge/alarm"
	"medagent/edge/ppg"
	"medagent/sensors"
	"medagent/telemetry"
)

// ppgProc derives SpO2, pulse rate and perfusion index from red and IR.
type ppgProc struct {
	name  string
	proc  *ppg.Processor
	last  ppg.Result
	valid int // valid sample pairs this window
	total int
}

func newPPGProc(s Sensor, calA, calB float64) (*ppgProc, error) {
	cfg := ppg.Defaults()
	cfg.Rate = s.Rate
	if calA != 0 || calB != 0 {
		cfg.CalA, cfg.CalB = calA, calB
	}
	p, err := ppg.New(cfg)
	if err != nil {
		return nil, err
	}
	return &ppgProc{name: s.Name, proc: p}, nil
}

func (p *ppgProc) push(blocks []sensors.Block) {
	red, ir := &blocks[0], &blocks[1]
	n := min(len(red.Samples), len(ir.Samples))
	for i := 0; i < n; i++ {
		ok := red.Valid[i] && ir.Valid[i]
		p.last = p.proc.Push(red.Samples[i], ir.Samples[i], ok)
		p.total++
		if ok {
			p.valid++
		}
	}
}

func (p *ppgProc) vitals(now time.Time, recs []telemetry.Record, a *alarmFeed) []telemetry.Record {
	r := p.last
	add := func(name, unit string, v float64, ok bool, digits float64) {
		if ok {
			recs = append(recs, telemetry.Record{Name: name, Unit: unit, Value: telemetry.V(math.Round(v*digits) / digits)})
		}
		recs = append(recs, telemetry.Record{Name: name + "/valid", Bool: telemetry.B(ok)})
	}
	add(MDCSpO2, unitPercent, r.SpO2, r.SpO2Valid, 1)
	add(MDCPulseRate, unitPerMin, r.PulseRate, r.RateValid, 1)
	add(MDCPerfusion, unitPercent, r.PI, r.PIValid, 100)
	a.vital(alarm.SpO2, r.SpO2, r.SpO2Valid)
	a.vital(alarm.PulseRate, r.PulseRate, r.RateValid)
	if p.total > 0 {
		// The front end marks samples invalid while the probe is off; the
		// processor sees the counts only while they arrive.
		off := r.ProbeOff || float64(p.valid) < leadOffBelow*float64(p.total)
		a.technical(p.name, alarm.ProbeOff, off)
		a.technical(p.name, alarm.PoorSignal, !off && (r.Motion || r.LowPerfusion))
	}
	p.valid, p.total = 0, 0
	return recs
}
