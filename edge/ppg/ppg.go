package ppg

import (
	"fmt"
	"math"
)

// Result is the state after one sample. Values are those of the last
// Config.Average pulses; a *Valid flag false means the value is not to be
// shown or alarmed on.
type Result struct {
	// Beat is true on the sample at which a pulse was confirmed (a little
	// after its peak); BeatDelay is how many seconds before this sample the
	// peak was.
	Beat      bool
	BeatDelay float64
	// BeatSpO2 and BeatRate are that pulse's own SpO2 (from its ratio of
	// ratios, 0 when unusable) and rate (60 over its interval, 0 when
	// unknown), before any averaging: for alarm timing (alarm.Instant).
	BeatSpO2, BeatRate float64

	PulseRate float64 // /min
	RateValid bool

	SpO2      float64 // %, clamped to 0..100
	R         float64 // averaged ratio of ratios
	SpO2Valid bool

	PI      float64 // perfusion index of the IR channel, %
	PIValid bool

	Motion       bool
	LowPerfusion bool
	ProbeOff     bool
	// Artefact is the part of Motion that is not the rhythm: a DC jump or
	// a pulse amplitude far from the others among the averaged pulses
	// (an irregular rhythm alone, as atrial fibrillation, is not one).
	Artefact bool
}

// pulse is what one detected pulse contributes to the averages.
type pulse struct {
	interval float64 // seconds since the previous peak; 0 if unknown
	ratio    float64 // R of this pulse; 0 if unusable
	pi       float64 // % ; 0 if unusable
	acIR     float64
	motion   bool
}

// Processor holds the state of one PPG stream. It is not safe for
// concurrent use; use one per sensor.
type Processor struct {
	cfg Config
	fs  float64

	red, ir channel
	dc      float64 // IR level, 1 s exponential average
	dcAlpha float64
	gap     bool // the next valid sample restarts the filters
	n       int64

	// Probe contact.
	outOfRange, inRange int
	probeOff            bool

	// Peak detection on the filtered IR signal.
	amp        float64 // running peak height
	learnUntil int64   // no detection before this sample (filters settling)
	learnMax   float64
	above      bool
	cand       float64 // candidate peak value and position
	candAt     float64
	candN      int64
	prevY      float64 // sample before the current one, for interpolation
	candPrev   float64 // sample before the candidate
	candNextOK bool
	lastPeak   float64 // fractional sample index; <0 unknown
	lastBeatN  int64

	// Accumulation over the current pulse window.
	wN              int
	sumRed, sumIR   float64
	maxRed, minRed  float64
	maxIR, minIR    float64
	prevDCIR        float64 // DC of the previous pulse window, 0 unknown
	ring            [maxAverage]pulse
	ringLen, ringAt int
	typical         float64 // median pulse interval, s; 0 unknown
	scratch         [maxAverage]float64

	res Result
}

// New returns a Processor for cfg, or an error naming the bad key.
func New(cfg Config) (*Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ppg: %w", err)
	}
	p := &Processor{
		cfg: cfg, fs: cfg.Rate, red: newChannel(cfg.Rate, false), ir: newChannel(cfg.Rate, true),
		dcAlpha: 1 - math.Exp(-1/cfg.Rate),
	}
	p.restart()
	return p, nil
}

// Reset forgets all history, as after the probe was put on a new patient.
func (p *Processor) Reset() {
	p.amp = 0
	p.probeOff, p.outOfRange, p.inRange = false, 0, 0
	p.forget()
	p.restart()
}

// restart drops the current pulse window and peak state; the next valid
// sample re-initialises the filters. Pulse history is kept.
func (p *Processor) restart() {
	p.gap = true
	p.above = false
	p.lastPeak = -1
	p.prevDCIR = 0
	p.resetWindow()
}

func (p *Processor) resetWindow() {
	p.wN = 0
	p.sumRed, p.sumIR = 0, 0
	p.maxRed, p.minRed = math.Inf(-1), math.Inf(1)
	p.maxIR, p.minIR = math.Inf(-1), math.Inf(1)
}

// Push processes one sample pair in raw counts. valid false (or a value
// that is not finite) marks a gap.
func (p *Processor) Push(red, ir float64, valid bool) Result {
	n := p.n
	p.n++
	p.res.Beat, p.res.BeatDelay, p.res.BeatSpO2, p.res.BeatRate = false, 0, 0, 0
	if !valid || !finite(red) || !finite(ir) {
		p.restart()
		p.expire(n)
		return p.res
	}
	if p.contact(red, ir) {
		p.restart()
		p.expire(n)
		return p.res
	}
	if p.gap {
		p.gap = false
		p.red.settle(red)
		p.ir.settle(ir)
		p.dc = ir
		// Let the filters settle for a second; learn the peak height
		// meanwhile if it is not known yet.
		p.learnUntil = n + int64(p.fs)
		p.learnMax = 0
	}
	yr, _ := p.red.step(red)
	ai, yi := p.ir.step(ir)
	if p.cfg.Inverted {
		yi = -yi
	}
	p.dc += p.dcAlpha * (ir - p.dc)

	if n < p.learnUntil {
		p.learnMax = math.Max(p.learnMax, yi)
		if n+1 == p.learnUntil && p.amp == 0 {
			p.amp = p.learnMax
		}
		p.prevY = yi
		p.expire(n)
		return p.res
	}

	p.wN++
	p.sumRed += red
	p.sumIR += ir
	p.maxRed, p.minRed = math.Max(p.maxRed, yr), math.Min(p.minRed, yr)
	p.maxIR, p.minIR = math.Max(p.maxIR, ai), math.Min(p.minIR, ai)

	p.detect(n, yi)
	p.prevY = yi
	p.expire(n)
	return p.res
}

// contact tracks probe-off and saturation; it reports whether the sample is
// unusable.
func (p *Processor) contact(red, ir float64) bool {
	lo, hi := p.cfg.ProbeOffDC, p.cfg.SaturationDC
	bad := red < lo || ir < lo || red >= hi || ir >= hi
	hold := int(p.fs / 4)
	if bad {
		p.inRange = 0
		p.outOfRange++
		if p.outOfRange >= hold && !p.probeOff {
			p.probeOff = true
			p.forget()
		}
	} else {
		p.outOfRange = 0
		p.inRange++
		if p.inRange >= hold {
			p.probeOff = false
		}
	}
	p.res.ProbeOff = p.probeOff
	return bad
}

// refractory is the shortest accepted pulse interval in samples: 45 % of
// the typical interval, kept within 250–400 ms. The upper bound stops a
// run of missed pulses (a typical interval that doubled) from blanking the
// real ones.
func (p *Processor) refractory() float64 {
	r := 0.25
	if p.typical > 0 {
		r = math.Min(0.4, math.Max(r, 0.45*p.typical))
	}
	return r * p.fs
}

func (p *Processor) detect(n int64, y float64) {
	// The threshold starts at 60 % of the running peak height after each
	// pulse and falls to 20 % over the next second, so that a pulse
	// smaller than the last ones is still found.
	since := float64(n-p.lastBeatN) / p.fs
	thr := p.amp * (0.6 - 0.4*math.Min(1, since))
	// Never below the noise floor: half of MinPI's peak-to-peak.
	thr = math.Max(thr, 0.5*p.cfg.MinPI/100*p.dc)
	if p.above && !p.candNextOK && n == p.candN+1 {
		// Interpolate the candidate's peak time with its neighbours.
		a, b, c := p.candPrev, p.cand, y
		if d := a - 2*b + c; d < 0 {
			p.candAt = float64(p.candN) + 0.5*(a-c)/d
		}
		p.candNextOK = true
	}
	switch {
	case y > thr && y > 0:
		if !p.above || y > p.cand {
			p.above = true
			p.cand, p.candN, p.candAt = y, n, float64(n)
			p.candPrev, p.candNextOK = p.prevY, false
		}
	case p.above && y < 0.5*p.cand:
		p.above = false
		if p.lastPeak >= 0 && p.candAt-p.lastPeak < p.refractory() {
			return // a dicrotic wave or noise right after a pulse
		}
		p.beat(n)
	}
	// Without pulses for 2 s, lower the height estimate: halve it every
	// second until pulses are found again.
	if since > 2 {
		p.amp *= math.Exp2(-1 / p.fs)
	}
}

// beat closes the current pulse window at sample n.
func (p *Processor) beat(n int64) {
	pk := p.cand
	if p.amp > 0 {
		pk = math.Min(pk, 2*p.amp) // one artefact must not blind the detector
	}
	p.amp = 0.8*p.amp + 0.2*pk

	first := p.lastPeak < 0
	var pl pulse
	if !first {
		pl.interval = (p.candAt - p.lastPeak) / p.fs
	}
	p.lastPeak = p.candAt
	p.lastBeatN = n
	p.res.Beat = true
	p.res.BeatDelay = (float64(n) - p.candAt) / p.fs
	if first {
		// The window before the first pulse after a (re)start is not a
		// whole pulse: it only opens the next one.
		p.resetWindow()
		return
	}

	if p.wN > 0 {
		dcR, dcI := p.sumRed/float64(p.wN), p.sumIR/float64(p.wN)
		acR, acI := p.maxRed-p.minRed, p.maxIR-p.minIR
		if dcR > 0 && dcI > 0 && acR > 0 && acI > 0 {
			pl.ratio = (acR / dcR) / (acI / dcI)
			pl.pi = 100 * acI / dcI
			pl.acIR = acI
		}
		if p.prevDCIR > 0 && math.Abs(dcI-p.prevDCIR) > p.cfg.MotionDCJump*p.prevDCIR {
			pl.motion = true
		}
		p.prevDCIR = dcI
	}
	p.resetWindow()
	p.push(pl)
	p.summarise()
	if pl.interval > 0 {
		p.res.BeatRate = 60 / pl.interval
	}
	if pl.ratio >= p.cfg.RMin && pl.ratio <= p.cfg.RMax && !pl.motion {
		p.res.BeatSpO2 = math.Max(0, math.Min(100, p.cfg.CalA-p.cfg.CalB*pl.ratio))
	}
}

func (p *Processor) push(pl pulse) {
	k := p.cfg.Average
	p.ring[p.ringAt] = pl
	p.ringAt = (p.ringAt + 1) % k
	if p.ringLen < k {
		p.ringLen++
	}
}

// summarise recomputes the averaged values from the pulse ring.
func (p *Processor) summarise() {
	// Pulse rate: the intervals within 30 % of their median, averaged, so
	// that one missed or extra pulse does not pull the rate.
	k := 0
	for i := 0; i < p.ringLen; i++ {
		if iv := p.ring[i].interval; iv > 0 && iv <= 2.4 {
			p.scratch[k] = iv
			k++
		}
	}
	p.typical = median(p.scratch[:k])
	// SpO2: likewise the ratios within 15 % of their median, so that one
	// pulse disturbed in one channel does not pull SpO2.
	k = 0
	for i := 0; i < p.ringLen; i++ {
		if pl := &p.ring[i]; pl.ratio > 0 && !pl.motion {
			p.scratch[k] = pl.ratio
			k++
		}
	}
	medR := median(p.scratch[:k])
	var iSum, iN, rSum, rN, piSum, aSum, vN float64
	for i := 0; i < p.ringLen; i++ {
		pl := &p.ring[i]
		if iv := pl.interval; iv > 0 && math.Abs(iv-p.typical) <= 0.3*p.typical {
			iSum += iv
			iN++
		}
		if pl.ratio > 0 {
			piSum += pl.pi
			aSum += pl.acIR
			vN++
			if !pl.motion && math.Abs(pl.ratio-medR) <= 0.15*medR {
				rSum += pl.ratio
				rN++
			}
		}
	}
	min := float64(p.cfg.MinPulses)
	r := &p.res
	r.RateValid = iN >= min
	r.PulseRate = 0
	if iN > 0 {
		r.PulseRate = 60 * iN / iSum
	}
	r.SpO2Valid, r.PIValid = false, vN >= min
	r.SpO2, r.R, r.PI = 0, 0, 0
	if vN > 0 {
		r.PI = piSum / vN
	}
	if rN > 0 {
		r.R = rSum / rN
		s := p.cfg.CalA - p.cfg.CalB*r.R
		r.SpO2 = math.Max(0, math.Min(100, s))
		r.SpO2Valid = rN >= min && r.R >= p.cfg.RMin && r.R <= p.cfg.RMax
	}
	r.LowPerfusion = r.PIValid && r.PI < p.cfg.LowPerfusionPI

	// Motion: a pulse that disagrees with the others in interval or
	// amplitude, or a DC jump.
	motion, artefact := false, false
	meanI := p.typical
	meanA := 0.0
	if vN > 0 {
		meanA = aSum / vN
	}
	ampFactor := 1 + 2.5*p.cfg.MotionIrregularity
	for i := 0; i < p.ringLen; i++ {
		pl := &p.ring[i]
		if pl.motion {
			motion, artefact = true, true
		}
		if k >= 2 && pl.interval > 0 && math.Abs(pl.interval-meanI) > p.cfg.MotionIrregularity*meanI {
			motion = true
		}
		if vN >= 2 && pl.acIR > 0 && (pl.acIR > ampFactor*meanA || pl.acIR*ampFactor < meanA) {
			motion, artefact = true, true
		}
	}
	r.Motion, r.Artefact = motion, artefact
}

// expire drops all pulse values when no pulse was seen for 3 s: a value
// that is not refreshed must not be shown as current.
func (p *Processor) expire(n int64) {
	if p.ringLen > 0 && float64(n-p.lastBeatN) > 3*p.fs {
		p.forget()
	}
}

// forget drops the pulse history and the values derived from it.
func (p *Processor) forget() {
	p.ringLen, p.ringAt = 0, 0
	p.typical = 0
	p.res = Result{ProbeOff: p.probeOff}
}

// median sorts v in place (insertion sort: at most 16 values, no
// allocation) and returns its median, or 0 for none.
func median(v []float64) float64 {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
	switch n := len(v); {
	case n == 0:
		return 0
	case n%2 == 1:
		return v[n/2]
	default:
		return (v[n/2-1] + v[n/2]) / 2
	}
}
