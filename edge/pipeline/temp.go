package pipeline

import (
	"math"
	"time"

	"medagent/edge/alarm"
	"medagent/edge/temp"
	"medagent/sensors"
	"medagent/telemetry"
)

// tempProc smooths body temperature and checks its plausibility.
type tempProc struct {
	name string
	f    *temp.Filter
	last temp.Reading
	seen bool
}

func newTempProc(s Sensor) (*tempProc, error) {
	f, err := temp.New(temp.Defaults())
	if err != nil {
		return nil, err
	}
	return &tempProc{name: s.Name, f: f}, nil
}

func (p *tempProc) push(blocks []sensors.Block) {
	b := &blocks[0]
	for i, v := range b.Samples {
		at := b.Wall.Add(time.Duration(float64(i) / b.Rate * float64(time.Second)))
		p.last = p.f.Update(at, v, b.Valid[i])
		p.seen = true
	}
}

func (p *tempProc) vitals(now time.Time, recs []telemetry.Record, a *alarmFeed) []telemetry.Record {
	r := p.last
	if r.Valid {
		recs = append(recs, telemetry.Record{Name: MDCTempBody, Unit: unitCelsius, Value: telemetry.V(math.Round(r.Celsius*100) / 100)})
	}
	recs = append(recs, telemetry.Record{Name: MDCTempBody + "/valid", Bool: telemetry.B(r.Valid)})
	a.vital(alarm.Temp, r.Celsius, r.Valid)
	if p.seen {
		a.technical(p.name, alarm.SensorFault, r.Fault&(temp.Stuck|temp.OutOfRange) != 0)
	}
	return recs
}
