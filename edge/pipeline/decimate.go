package pipeline

import (
	"math"
	"time"

	"medagent/sensors"
	"medagent/telemetry"
)

// decimator turns a raw stream into a lower-rate waveform for sensors that
// opted in: the mean of each group of samples (a boxcar, which also keeps
// aliasing down), timed from the window's first sample. Groups with an
// invalid sample are skipped, so a gap stays a gap.
type decimator struct {
	name, unit string
	factor     int
	rate       float64
	sum        float64
	n          int
	bad        bool
	recs       []telemetry.Record
}

func newDecimator(name, unit string, rate, outRate float64) *decimator {
	f := 1
	if outRate > 0 && outRate < rate {
		f = int(math.Round(rate / outRate))
	}
	return &decimator{name: name, unit: unit, factor: f, rate: rate}
}

func (d *decimator) push(b *sensors.Block, first time.Time) {
	for i, v := range b.Samples {
		d.sum += v
		d.n++
		d.bad = d.bad || !b.Valid[i] || math.IsNaN(v) || math.IsInf(v, 0)
		if d.n < d.factor {
			continue
		}
		if !d.bad {
			off := b.Wall.Sub(first).Seconds() + float64(i-d.factor+1)/d.rate
			d.recs = append(d.recs, telemetry.Record{
				Name: d.name, Unit: d.unit, Value: telemetry.V(round(d.sum / float64(d.n))), Offset: math.Round(off*1e4) / 1e4,
			})
		}
		d.sum, d.n, d.bad = 0, 0, false
	}
}

func (d *decimator) flush(dst []telemetry.Record) []telemetry.Record {
	dst = append(dst, d.recs...)
	d.recs = d.recs[:0]
	d.sum, d.n, d.bad = 0, 0, false
	return dst
}
