package pipeline

import (
	"math"
	"time"

	"medagent/sensors"
	"medagent/telemetry"
)

// windowStats is the spine's edge stage for one stream: min, mean and max of
// the valid samples in a window, and whether the window was valid (enough
// valid samples arrived). Clinical algorithms add their own records.
type windowStats struct {
	name, unit string
	rate       float64
	first      time.Time
	n, valid   int
	min, max   float64
	sum        float64
}

// minCoverage is the fraction of expected valid samples a window needs to
// count as valid. A window with any gap below this is flagged, not hidden.
const minCoverage = 0.9

func newWindowStats(name, unit string, rate float64) *windowStats {
	w := &windowStats{name: name, unit: unit, rate: rate}
	w.reset()
	return w
}

func (w *windowStats) reset() {
	w.first = time.Time{}
	w.n, w.valid, w.sum = 0, 0, 0
	w.min, w.max = math.Inf(1), math.Inf(-1)
}

func (w *windowStats) push(b *sensors.Block) {
	if w.first.IsZero() {
		w.first = b.Wall
	}
	for i, v := range b.Samples {
		w.n++
		if !b.Valid[i] || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		w.valid++
		w.sum += v
		w.min = math.Min(w.min, v)
		w.max = math.Max(w.max, v)
	}
}

// flush appends the window's records to dst and starts a new window.
func (w *windowStats) flush(window time.Duration, dst []telemetry.Record) []telemetry.Record {
	expected := w.rate * window.Seconds()
	ok := float64(w.valid) >= minCoverage*expected && w.valid > 0
	dst = append(dst, telemetry.Record{Name: w.name + "/valid", Bool: telemetry.B(ok)})
	if w.valid > 0 {
		dst = append(dst,
			telemetry.Record{Name: w.name + "/min", Unit: w.unit, Value: telemetry.V(round(w.min))},
			telemetry.Record{Name: w.name + "/mean", Unit: w.unit, Value: telemetry.V(round(w.sum / float64(w.valid)))},
			telemetry.Record{Name: w.name + "/max", Unit: w.unit, Value: telemetry.V(round(w.max))},
		)
	}
	w.reset()
	return dst
}

// round keeps 4 significant decimals: more is noise and costs bytes.
func round(v float64) float64 { return math.Round(v*1e4) / 1e4 }
