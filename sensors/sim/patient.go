package sim

import (
	"math"
	"slices"
	"time"
)

// Patient is one simulated heart, body and blood. It owns the set-point
// schedule and the beat schedule (R-peak times); every stream made from it
// (ECG, PPG, temperature) reads the same schedule, so they agree on the
// heart rate. A Patient is immutable and safe for concurrent use; the
// streams it makes are not (each belongs to one sampling loop).
type Patient struct {
	opts  PatientOptions
	hr    track
	spo2  track
	temp  track
	rr0   float64 // baseline mean RR, s
	first float64 // first R peak at or after time 0, s
	hrv   hrv
}

// SetPoint is the true state of the patient at an instant, without
// variability or noise: what an alarm test expects the monitor to show.
type SetPoint struct {
	HeartRate float64 // bpm (mean; beat-to-beat intervals vary around it)
	SpO2      float64 // %
	TempC     float64 // °C
}

// NewPatient validates o and returns the patient it describes.
func NewPatient(o PatientOptions) (*Patient, error) {
	o.ensureDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	o.Changes = slices.Clone(o.Changes)
	p := &Patient{
		opts: o,
		hr:   newTrack(o.HeartRate, o.Changes, func(c Change) float64 { return c.HeartRate }),
		spo2: newTrack(o.SpO2, o.Changes, func(c Change) float64 { return c.SpO2 }),
		temp: newTrack(o.TempC, o.Changes, func(c Change) float64 { return c.TempC }),
		rr0:  60 / o.HeartRate,
	}
	r := newRNG(o.Seed, "beats")
	p.first = r.float() * 60 / p.hr.at(0)
	p.hrv = newHRV(&r, o.HRVStd, o.RespRate/60, o.LFHFRatio)
	return p, nil
}

// Options returns the options the patient was made with, defaults filled in.
func (p *Patient) Options() PatientOptions {
	o := p.opts
	o.Changes = slices.Clone(o.Changes)
	return o
}

// SetPoint returns the set points at time t since the start of the stream.
func (p *Patient) SetPoint(t time.Duration) SetPoint {
	s := t.Seconds()
	return SetPoint{HeartRate: p.hr.at(s), SpO2: p.spo2.at(s), TempC: p.temp.at(s)}
}

// Beats returns the true R-peak times in [from, to), measured from the
// start of every stream (sample 0 is at time 0). Times before 0 are not
// reported. Use it as ground truth for a QRS detector.
func (p *Patient) Beats(from, to time.Duration) []time.Duration {
	from = max(from, 0)
	if to <= from {
		return nil
	}
	var out []time.Duration
	b := p.beats()
	b.seek(from.Seconds())
	if d := seconds(b.prev); d >= from && d < to {
		out = append(out, d)
	}
	for seconds(b.next) < to {
		if d := seconds(b.next); d >= from {
			out = append(out, d)
		}
		b.advance()
	}
	return out
}

func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s * 1e9))
}

// beatIter walks the beat schedule: prev <= t < next for the last t sought.
// Before time 0 beats repeat at the baseline RR without variability (the
// PPG, delayed by the transit time, looks slightly into the past).
type beatIter struct {
	p    *Patient
	hr   cursor
	prev float64
	next float64
	tau  float64 // the HRV process's clock: the sum of mean RRs so far
}

func (p *Patient) beats() beatIter {
	return beatIter{p: p, hr: p.hr.cursor(), prev: p.first - p.rr0, next: p.first}
}

// seek moves to the interval holding t. Times must not decrease, except
// that the first call may go back before 0.
func (b *beatIter) seek(t float64) {
	for t < b.prev {
		b.next = b.prev
		b.prev -= b.p.rr0
	}
	for t >= b.next {
		b.advance()
	}
}

func (b *beatIter) advance() {
	b.prev = b.next
	b.next += b.rr(b.prev)
}

// rr is the interval starting with the beat at t: the mean RR of the
// scheduled heart rate plus the HRV process, scaled to that mean, and held
// within ±40 % of it.
//
// The HRV process runs on its own clock, which advances by the mean RR at
// each beat. Sampled on real time, short intervals would be sampled more
// often than long ones and the mean RR would come out short (by σ²/RR,
// 4 bpm at 180 bpm with σ = 50 ms); sampled once per mean RR it is not.
func (b *beatIter) rr(t float64) float64 {
	if t < 0 {
		return b.p.rr0
	}
	m := 60 / b.hr.at(t)
	v := m + b.p.hrv.at(b.tau)*m/b.p.rr0
	b.tau += m
	return min(max(v, 0.6*m), 1.4*m)
}

// hrv is the RR tachogram's variation: a spectral representation of the
// bimodal (LF/HF) spectrum of McSharry et al., as a sum of cosines whose
// frequencies are drawn from the spectrum itself (so equal amplitudes) and
// whose phases are random. Unlike an inverse FFT it never repeats.
type hrv struct {
	f, amp, phase [hrvComponents]float64
}

const hrvComponents = 64

// Spectrum parameters of McSharry et al. 2003: LF peak at 0.1 Hz, HF peak
// at the respiration frequency, both with a standard deviation of 0.01 Hz.
const (
	lfCenterHz = 0.1
	bandStdHz  = 0.01
)

func newHRV(r *rng, std, respHz, lfhf float64) hrv {
	var h hrv
	// The split between the bands is exact, so the LF/HF power ratio is
	// the configured one up to the rounding of the component count.
	nLF := int(math.Round(hrvComponents * lfhf / (1 + lfhf)))
	a := std * math.Sqrt(2.0/hrvComponents) // sum of a²/2 over components = std²
	for i := range h.f {
		c := respHz
		if i < nLF {
			c = lfCenterHz
		}
		h.f[i] = max(c+bandStdHz*r.norm(), 0.003)
		h.amp[i] = a
		h.phase[i] = 2 * math.Pi * r.float()
	}
	return h
}

func (h *hrv) at(t float64) float64 {
	if h.amp[0] == 0 {
		return 0
	}
	var s float64
	for i := range h.f {
		s += h.amp[i] * math.Cos(2*math.Pi*h.f[i]*t+h.phase[i])
	}
	return s
}
