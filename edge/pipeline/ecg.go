package pipeline

import (
	"math"
	"time"

	"medagent/edge/alarm"
	"medagent/edge/ecg"
	"medagent/sensors"
	"medagent/telemetry"
)

// ecgProc derives the heart rate from lead II.
type ecgProc struct {
	name    string
	rate    float64
	det     *ecg.Detector
	n       int64 // samples pushed
	last    ecg.Beat
	hasBeat bool
	valid   int // valid samples this window
	total   int
}

// hrMaxAge is how long after the last beat the heart rate is still shown.
const hrMaxAge = 3 * time.Second

// leadOffBelow is the fraction of valid samples under which a window
// counts as lead off: the front end marks samples invalid when an
// electrode is off.
const leadOffBelow = 0.5

func newECGProc(s Sensor, mainsHz float64) (*ecgProc, error) {
	d, err := ecg.NewDetector(ecg.Options{Rate: s.Rate, MainsHz: mainsHz})
	if err != nil {
		return nil, err
	}
	return &ecgProc{name: s.Name, rate: s.Rate, det: d}, nil
}

func (p *ecgProc) push(blocks []sensors.Block) {
	b := &blocks[0]
	for i, v := range b.Samples {
		ok := b.Valid[i] && !math.IsNaN(v) && !math.IsInf(v, 0)
		if ok {
			p.valid++
		}
		p.total++
		if beat, found := p.det.Push(v, ok); found {
			p.last, p.hasBeat = beat, true
		}
		p.n++
	}
}

func (p *ecgProc) vitals(now time.Time, recs []telemetry.Record, a *alarmFeed) []telemetry.Record {
	age := time.Duration(float64(p.n-p.last.Index) / p.rate * float64(time.Second))
	hr := p.last.HRAvg
	ok := p.hasBeat && hr > 0 && age <= hrMaxAge
	if ok {
		recs = append(recs, telemetry.Record{Name: MDCHeartRate, Unit: unitPerMin, Value: telemetry.V(math.Round(hr))})
	}
	recs = append(recs,
		telemetry.Record{Name: MDCHeartRate + "/valid", Bool: telemetry.B(ok)},
		telemetry.Record{Name: MDCHeartRate + "/quality", Value: telemetry.V(math.Round(p.det.Quality()*100) / 100)},
	)
	a.vital(alarm.HR, hr, ok)
	if p.total > 0 {
		a.technical(p.name, alarm.LeadOff, float64(p.valid) < leadOffBelow*float64(p.total))
	}
	p.valid, p.total = 0, 0
	return recs
}
