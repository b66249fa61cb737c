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
	name   string
	rate   float64
	proc   *ppg.Processor
	last   ppg.Result
	valid  int // valid sample pairs this window
	total  int
	pulses []pulseAt // pulses of this window, for alarm.Manager.Instant
}

// pulseAt is the start of a pulse interval with its pulse's own SpO2 and
// rate (0: unknown).
type pulseAt struct {
	at       time.Time
	spo2, pr float64
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
	return &ppgProc{name: s.Name, rate: s.Rate, proc: p}, nil
}

func (p *ppgProc) push(blocks []sensors.Block) {
	red, ir := &blocks[0], &blocks[1]
	n := min(len(red.Samples), len(ir.Samples))
	for i := 0; i < n; i++ {
		ok := red.Valid[i] && ir.Valid[i]
		p.last = p.proc.Push(red.Samples[i], ir.Samples[i], ok)
		if r := &p.last; r.Beat && len(p.pulses) < maxBeatsPerWindow {
			// A pulse's values describe the interval it ends: from the
			// previous pulse on.
			back := float64(i)/p.rate - r.BeatDelay
			if r.BeatRate > 0 {
				back -= 60 / r.BeatRate
			}
			p.pulses = append(p.pulses, pulseAt{at: red.Wall.Add(time.Duration(back * float64(time.Second))), spo2: r.BeatSpO2, pr: r.BeatRate})
		}
		p.total++
		if ok {
			p.valid++
		}
	}
}

func (p *ppgProc) vitals(now time.Time, recs []telemetry.Record, a *alarmFeed) []telemetry.Record {
	r := p.last
	off := p.total > 0 && (r.ProbeOff || float64(p.valid) < leadOffBelow*float64(p.total))
	// The quality gate of the PPG: during a motion artefact or with low
	// perfusion, SpO2 and pulse rate are not shown and their alarms are
	// held (poor_signal says why); an irregular rhythm alone is not an
	// artefact.
	poor := !off && (r.Artefact || r.LowPerfusion)
	if poor {
		r.SpO2Valid, r.RateValid = false, false
	}
	add := func(name, unit string, v float64, ok bool, digits float64) {
		if ok {
			recs = append(recs, telemetry.Record{Name: name, Unit: unit, Value: telemetry.V(math.Round(v*digits) / digits)})
		}
		recs = append(recs, telemetry.Record{Name: name + "/valid", Bool: telemetry.B(ok)})
	}
	add(MDCSpO2, unitPercent, r.SpO2, r.SpO2Valid, 1)
	add(MDCPulseRate, unitPerMin, r.PulseRate, r.RateValid, 1)
	add(MDCPerfusion, unitPercent, r.PI, r.PIValid, 100)
	if poor {
		a.hold(alarm.SpO2)
		a.hold(alarm.PulseRate)
	} else {
		for _, b := range p.pulses {
			if b.spo2 > 0 {
				a.instant(alarm.SpO2, b.at, b.spo2)
			}
			if b.pr > 0 {
				a.instant(alarm.PulseRate, b.at, b.pr)
			}
		}
		a.vital(alarm.SpO2, r.SpO2, r.SpO2Valid)
		a.vital(alarm.PulseRate, r.PulseRate, r.RateValid)
	}
	p.pulses = p.pulses[:0]
	if p.total > 0 {
		// The front end marks samples invalid while the probe is off; the
		// processor sees the counts only while they arrive.
		a.technical(p.name, alarm.ProbeOff, off)
		a.technical(p.name, alarm.PoorSignal, poor)
	}
	p.valid, p.total = 0, 0
	return recs
}
