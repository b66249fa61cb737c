package pipeline

import (
	"math"
	"time"

	"medagent/edge/alarm"
	"medagent/edge/ecg"
	"medagent/sensors"
	"medagent/telemetry"
)

// ecgProc derives the heart rate, the signal quality and the rhythm alarms
// (asystole, pause) from lead II through an ecg.Monitor.
type ecgProc struct {
	name  string
	rate  float64
	mon   *ecg.Monitor
	pause time.Duration // 0: off
	beats []beatAt      // beats of this window, for alarm.Manager.Instant
	// Samples of this window the front end sent marked invalid (lead
	// off), and those never read (sensors.Lost: missed slots, lost
	// frames), of total.
	off, lost, total int
}

// beatAt is the start of an R-R interval and its heart rate.
type beatAt struct {
	at time.Time
	hr float64
}

// maxBeatsPerWindow bounds the beats kept for one window (300 /min for a
// minute).
const maxBeatsPerWindow = 300

// leadOffBelow is the fraction of valid samples under which a window
// counts as lead off: the front end marks samples invalid when an
// electrode is off. Only samples the front end sent count: samples never
// read (a starved sampling thread, lost frames) say nothing about the
// electrodes, so they never raise "lead off" (they are reported as a
// frames_lost sensor event); a window mostly lost makes the rhythm
// alarms unknown instead, as a lead off does.
const leadOffBelow = 0.5

func newECGProc(s Sensor, mainsHz float64, al alarm.Config) (*ecgProc, error) {
	m, err := ecg.NewMonitor(ecg.MonitorOptions{
		Options:       ecg.Options{Rate: s.Rate, MainsHz: mainsHz},
		AsystoleAfter: al.Asystole.Delay,
	})
	if err != nil {
		return nil, err
	}
	p := &ecgProc{name: s.Name, rate: s.Rate, mon: m}
	if al.Pause.Enabled {
		p.pause = al.Pause.Limit
	}
	return p, nil
}

func (p *ecgProc) push(blocks []sensors.Block) {
	b := &blocks[0]
	for i, v := range b.Samples {
		ok := b.Valid[i] && !math.IsNaN(v) && !math.IsInf(v, 0)
		p.total++
		switch {
		case sensors.IsLost(v):
			p.lost++
		case !ok:
			p.off++
		}
		beat, found := p.mon.Push(v, ok)
		if !found || beat.RR == 0 || len(p.beats) >= maxBeatsPerWindow {
			continue
		}
		// The beat-to-beat rate is that of the R-R interval that this
		// beat ends: it holds from the previous R peak on (this sample's
		// time, minus the report delay and the interval).
		back := float64(int64(i)-(beat.Reported-beat.Index)-beat.RR) / p.rate
		p.beats = append(p.beats, beatAt{at: b.Wall.Add(time.Duration(back * float64(time.Second))), hr: beat.HR})
	}
}

func (p *ecgProc) vitals(now time.Time, recs []telemetry.Record, a *alarmFeed) []telemetry.Record {
	st := p.mon.Status()
	sent := p.total - p.lost
	leadOff := sent > 0 && float64(sent-p.off) < leadOffBelow*float64(sent)
	unknown := leadOff || p.total == 0 || float64(p.lost) > (1-leadOffBelow)*float64(p.total)
	p.off, p.lost, p.total = 0, 0, 0
	hr, ok := st.HR, st.HRValid
	asystole := st.Asystole && !unknown
	if asystole {
		// Cardiac standstill: the rate is 0, not unknown.
		hr, ok = 0, true
	}
	if ok {
		recs = append(recs, telemetry.Record{Name: MDCHeartRate, Unit: unitPerMin, Value: telemetry.V(math.Round(hr))})
	}
	recs = append(recs,
		telemetry.Record{Name: MDCHeartRate + "/valid", Bool: telemetry.B(ok)},
		telemetry.Record{Name: MDCHeartRate + "/quality", Value: telemetry.V(math.Round(st.Quality*100) / 100)},
	)

	// Asystole is judged on the lead itself: never suspended by noise
	// (a noisy lead is not flat) or by the heart-rate average.
	asy := alarm.Absent
	switch {
	case unknown:
		asy = alarm.Unknown
	case asystole:
		asy = alarm.Present
	}
	a.rhythm(alarm.Asystole, asy, st.SinceQRS)

	pause := alarm.Absent
	switch {
	case unknown || st.Noisy:
		pause = alarm.Unknown
	case p.pause > 0 && st.LongestGap >= p.pause.Seconds():
		pause = alarm.Present
	}
	a.rhythm(alarm.Pause, pause, st.LongestGap)

	switch {
	case st.Noisy || asystole:
		// Withheld for a reason with its own alarm: no limit alarm
		// starts or clears, and no no_data on top.
		a.hold(alarm.HR)
	default:
		if !st.Noisy {
			for _, b := range p.beats {
				a.instant(alarm.HR, b.at, b.hr)
			}
		}
		a.vital(alarm.HR, hr, ok)
	}
	p.beats = p.beats[:0]
	a.technical(p.name, alarm.LeadOff, leadOff)
	a.technical(p.name, alarm.Noise, st.NoiseNow && !leadOff)
	return recs
}
