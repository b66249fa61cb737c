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
	name string
	proc *ppg.Processor
	last ppg.Result
	seen bool
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
		p.last = p.proc.Push(red.Samples[i], ir.Samples[i], red.Valid[i] && ir.Valid[i])
		p.seen = true
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
	if p.seen {
		a.technical(p.name, alarm.ProbeOff, r.ProbeOff)
		a.technical(p.name, alarm.PoorSignal, !r.ProbeOff && (r.Motion || r.LowPerfusion))
	}
	return recs
}
