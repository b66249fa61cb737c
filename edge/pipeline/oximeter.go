package pipeline

import (
	"time"

	"medagent/edge/alarm"
	"medagent/sensors"
	"medagent/telemetry"
)

// Oximeter is a sensor that computes SpO2 and pulse rate itself (a Nonin
// on a serial port): three streams, SpO2 in %, pulse rate in 1/min (each
// repeated on every frame, invalid while the device has none) and the
// device's pleth. The window reports the last valid values.
const Oximeter Kind = "oximeter"

// MDCPleth is the reference ID of a device-scaled plethysmogram.
const MDCPleth = sensors.MDCPleth

type oximeterProc struct {
	name      string
	spo2, pr  float64
	okS, okP  bool
	seen      bool
	valid, of int // pleth samples valid, and of how many, this window
}

func newOximeterProc(s Sensor) (*oximeterProc, error) { return &oximeterProc{name: s.Name}, nil }

func (p *oximeterProc) push(blocks []sensors.Block) {
	sp, pr, pl := &blocks[0], &blocks[1], &blocks[2]
	n := min(len(sp.Samples), len(pr.Samples), len(pl.Samples))
	for i := 0; i < n; i++ {
		p.spo2, p.okS = sp.Samples[i], sp.Valid[i]
		p.pr, p.okP = pr.Samples[i], pr.Valid[i]
		if pl.Valid[i] {
			p.valid++
		}
		p.of++
		p.seen = true
	}
}

func (p *oximeterProc) vitals(now time.Time, recs []telemetry.Record, a *alarmFeed) []telemetry.Record {
	add := func(name, unit string, v float64, ok bool) {
		if ok {
			recs = append(recs, telemetry.Record{Name: name, Unit: unit, Value: telemetry.V(v)})
		}
		recs = append(recs, telemetry.Record{Name: name + "/valid", Bool: telemetry.B(ok)})
	}
	add(MDCSpO2, unitPercent, p.spo2, p.okS)
	add(MDCPulseRate, unitPerMin, p.pr, p.okP)
	a.vital(alarm.SpO2, p.spo2, p.okS)
	a.vital(alarm.PulseRate, p.pr, p.okP)
	if p.seen {
		// The oximeter flags a disconnected or untracked probe in its
		// frames; most of a window without a valid pleth is probe off.
		a.technical(p.name, alarm.ProbeOff, p.of > 0 && p.valid*2 < p.of)
	}
	p.valid, p.of = 0, 0
	return recs
}
