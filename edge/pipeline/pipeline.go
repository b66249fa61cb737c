package pipeline

import (
	"fmt"
	"time"

	"medagent/edge/alarm"
	"medagent/sensors"
	"medagent/telemetry"
)

// Kind says which algorithms run on a sensor's samples.
type Kind string

// Sensor kinds and the streams (blocks) each expects, in order.
const (
	ECG  Kind = "ecg"  // one stream: lead II, mV
	PPG  Kind = "ppg"  // two streams: red, IR, raw counts
	Temp Kind = "temp" // one stream: °C
)

// Stream describes one stream of a sensor.
type Stream struct {
	Unit string // UCUM
	MDC  string // IEEE 11073-10101 reference ID of the raw signal
}

// Sensor declares one sensor.
type Sensor struct {
	Name    string
	Kind    Kind
	Rate    float64
	Streams []Stream
}

// Config configures the pipeline.
type Config struct {
	Window time.Duration
	// MainsHz is the ECG notch: 0, 50 or 60.
	MainsHz float64
	// SpO2CalA and SpO2CalB calibrate SpO2 = A − B·R (zero: edge/ppg's defaults).
	SpO2CalA, SpO2CalB float64
	// Waveforms names the sensors whose raw samples are also sent,
	// decimated to WaveformRate samples per second.
	Waveforms    []string
	WaveformRate float64
	Alarms       alarm.Config
}

// Pipeline is the edge stage's state. Not safe for concurrent use.
type Pipeline struct {
	cfg     Config
	sensors []*sensorState
	byName  map[string]*sensorState
	alarms  *alarm.Manager
}

// processor is the per-kind algorithm of a sensor.
type processor interface {
	push(blocks []sensors.Block)
	// vitals appends the window's derived records and reports vitals and
	// technical conditions to the alarm manager.
	vitals(now time.Time, recs []telemetry.Record, a *alarmFeed) []telemetry.Record
}

type sensorState struct {
	Sensor
	stats []*windowStats
	wave  []*decimator // nil unless waveforms are on for this sensor
	proc  processor
	first time.Time
}

// New checks the sensors and configuration and returns a pipeline.
func New(cfg Config, list []Sensor) (*Pipeline, error) {
	if cfg.Window <= 0 {
		return nil, fmt.Errorf("pipeline: window must be positive, got %v", cfg.Window)
	}
	am, err := alarm.New(cfg.Alarms)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	p := &Pipeline{cfg: cfg, byName: map[string]*sensorState{}, alarms: am}
	wave := map[string]bool{}
	for _, w := range cfg.Waveforms {
		wave[w] = true
	}
	for _, s := range list {
		if p.byName[s.Name] != nil {
			return nil, fmt.Errorf("pipeline: sensor %q declared twice", s.Name)
		}
		st := &sensorState{Sensor: s}
		if st.proc, err = newProcessor(cfg, s); err != nil {
			return nil, fmt.Errorf("pipeline: sensor %q: %w", s.Name, err)
		}
		for _, str := range s.Streams {
			st.stats = append(st.stats, newWindowStats(str.MDC, str.Unit, s.Rate))
			if wave[s.Name] {
				st.wave = append(st.wave, newDecimator(str.MDC, str.Unit, s.Rate, cfg.WaveformRate))
			}
		}
		p.sensors = append(p.sensors, st)
		p.byName[s.Name] = st
	}
	return p, nil
}

func newProcessor(cfg Config, s Sensor) (processor, error) {
	want := map[Kind]int{ECG: 1, PPG: 2, Temp: 1, Oximeter: 3}
	n, ok := want[s.Kind]
	if !ok {
		return nil, fmt.Errorf("unknown kind %q", s.Kind)
	}
	if len(s.Streams) != n {
		return nil, fmt.Errorf("kind %s needs %d streams, got %d", s.Kind, n, len(s.Streams))
	}
	switch s.Kind {
	case ECG:
		return newECGProc(s, cfg.MainsHz, cfg.Alarms)
	case PPG:
		return newPPGProc(s, cfg.SpO2CalA, cfg.SpO2CalB)
	case Oximeter:
		return newOximeterProc(s)
	}
	return newTempProc(s)
}

// Push feeds one read of a sensor: one block per stream, in order. Blocks
// of an unknown sensor, or with the wrong number of streams, are ignored.
func (p *Pipeline) Push(sensor string, blocks []sensors.Block) {
	st := p.byName[sensor]
	if st == nil || len(blocks) != len(st.stats) {
		return
	}
	if st.first.IsZero() && len(blocks[0].Samples) > 0 {
		st.first = blocks[0].Wall
	}
	for i := range blocks {
		st.stats[i].push(&blocks[i])
		if st.wave != nil {
			st.wave[i].push(&blocks[i], st.first)
		}
	}
	st.proc.push(blocks)
}

// Flush ends the window at now: it returns one telemetry pack per sensor
// (a silent sensor's streams flagged invalid) followed by one alarm pack
// per alarm transition.
func (p *Pipeline) Flush(now time.Time) []telemetry.Pack {
	feed := &alarmFeed{m: p.alarms, now: now}
	var out []telemetry.Pack
	for _, st := range p.sensors {
		at := st.first
		if at.IsZero() {
			at = now.Add(-p.cfg.Window)
		}
		pk := telemetry.Pack{Stream: st.Name, Class: telemetry.ClassTelemetry, Time: at}
		pk.Records = st.proc.vitals(now, pk.Records, feed)
		for _, w := range st.stats {
			pk.Records = w.flush(p.cfg.Window, pk.Records)
		}
		for _, d := range st.wave {
			pk.Records = d.flush(pk.Records)
		}
		st.first = time.Time{}
		out = append(out, pk)
	}
	feed.add(p.alarms.Tick(now))
	return append(out, alarmPacks(feed.transitions)...)
}

// Tick runs the alarm delays at now without new values and returns the
// packs of the alarm transitions due: an edge stage that calls it between
// windows raises an alarm when its condition delay ends rather than at the
// next window's end. now must not be before the last Flush or Tick, nor
// after the next Flush.
func (p *Pipeline) Tick(now time.Time) []telemetry.Pack {
	return alarmPacks(p.alarms.Tick(now))
}

// Active lists the active alarms.
func (p *Pipeline) Active() []alarm.Alarm { return p.alarms.Active() }

// Ack acknowledges an alarm and returns the packs of its transitions.
func (p *Pipeline) Ack(now time.Time, id alarm.ID) ([]telemetry.Pack, error) {
	tr, err := p.alarms.Ack(now, id)
	if err != nil {
		return nil, err
	}
	return alarmPacks(tr), nil
}

// alarmFeed collects the alarm transitions of one flush.
type alarmFeed struct {
	m           *alarm.Manager
	now         time.Time
	transitions []alarm.Transition
}

func (f *alarmFeed) add(tr []alarm.Transition) { f.transitions = append(f.transitions, tr...) }

func (f *alarmFeed) vital(v alarm.Vital, value float64, valid bool) {
	f.add(f.m.Update(f.now, v, value, valid))
}

func (f *alarmFeed) technical(source string, c alarm.Condition, active bool) {
	f.add(f.m.Technical(f.now, source, c, active))
}

func (f *alarmFeed) rhythm(c alarm.Condition, o alarm.Observation, seconds float64) {
	f.add(f.m.Rhythm(f.now, c, o, seconds))
}

func (f *alarmFeed) hold(v alarm.Vital) { f.add(f.m.Hold(f.now, v)) }

func (f *alarmFeed) instant(v alarm.Vital, at time.Time, value float64) { f.m.Instant(at, v, value) }
