package ecg

import (
	"errors"
	"fmt"
	"math"
)

// Options configures a Detector.
type Options struct {
	// Rate is the sampling rate in Hz, 100..2000 (designed for 250–1000).
	Rate float64 `yaml:"rate"`
	// MainsHz selects the mains notch: 0 (none), 50 or 60.
	MainsHz float64 `yaml:"mains_hz"`
}

// ErrOptions is wrapped by NewDetector's errors.
var ErrOptions = errors.New("ecg: invalid options")

// Beat is one detected QRS complex.
type Beat struct {
	Index    int64   // sample index of the R peak (0 = first sample pushed)
	Reported int64   // index of the sample whose Push returned the beat
	RR       int64   // samples since the previous beat, 0 if none (start or after a gap)
	HR       float64 // beat-to-beat heart rate, beats/min, 0 if RR is 0
	HRAvg    float64 // median heart rate over the last 8 RR intervals, 0 if none
	Quality  float64 // signal quality index 0..1 (see Detector.Quality)
	// Amplitude is the conditioned signal at the R peak, in input units.
	Amplitude float64
	// Searchback is true when the beat was recovered below the threshold
	// after no beat was found for 1.66 average RR intervals; such beats,
	// and beats of the first learning period, are reported later than
	// MaxLatency.
	Searchback bool
	// Learning is true for beats found in the learning period after start
	// or after a long gap; they are reported when that period ends.
	Learning bool
}

// Detector tuning, in seconds or as fractions, from the cited literature.
const (
	learnSeconds   = 2.0   // initial threshold learning period
	mwiSeconds     = 0.150 // moving-window integral width
	refractory     = 0.200 // no second QRS within this time
	replaceWindow  = 0.3   // a much larger complex this soon replaces a held one
	replaceRatio   = 1.3   // "much larger" in integral height
	tWaveLimit     = 0.360 // T-wave discrimination applies below this RR
	tallTLimit     = 0.300 // and its tall-T rule below this one
	confirmSeconds = 0.100 // MWI peak confirmed after at most this time
	refineSeconds  = 0.050 // R-peak refinement half-window around steepest slope
	gapHold        = 0.5   // gaps up to this long are bridged by holding the last value
	thresholdFrac  = 0.22  // threshold = noise + frac*(signal-noise)
	bridgedFrac    = 0.1   // of the threshold: a complex next to a bridged gap (see classify)
	bridgedRR      = 0.7   // of the mean RR: the earliest such a complex is taken
	searchbackRR   = 1.66  // searchback after this many average RR
	cleanSNR       = 8.0   // sub-threshold complexes this far above noise are beats
	stallSeconds   = 2.5   // halve the signal level after this long without a beat
	qualitySeconds = 5.0   // window of the valid-sample fraction in Quality
	// MaxInput is the largest magnitude accepted as a sample; larger
	// values are treated as invalid so the filters stay finite.
	MaxInput = 1e6
	// MaxLatency bounds the delay from an R peak to its report (except for
	// searchback and learning-period beats).
	MaxLatency = 0.300
)

type candidate struct {
	r      int64   // refined R index
	h      float64 // MWI peak height
	slope  float64 // max |slope| over the QRS
	amp    float64 // conditioned signal at r
	active bool
	// learning marks candidates seen in the learning period.
	learning bool
	// bridged marks candidates whose integral window held samples bridged
	// over a gap (see bridgedNear).
	bridged bool
}

// Detector is a streaming QRS detector for one ECG lead.
type Detector struct {
	rate float64
	opt  Options

	// conditioning and detection filters
	hp, mains, bpHP, bpLP biquad
	useNotch              bool
	ecg, slope            ring // conditioned signal, |derivative| of band-pass
	mwi                   []float64
	mwiSum                float64
	mwiLast               float64 // integral at the last sample, for the Monitor
	mwiPos                int
	prevBP                float64

	// sample bookkeeping
	n        int64 // index of the next sample
	primed   bool  // filters primed since the last reset
	start    int64 // first sample after the last reset
	gap      int64 // consecutive invalid samples
	last     float64
	held     int64 // last sample bridged by holding the last value
	haveHeld bool
	validWin float64 // exponentially weighted fraction of valid samples

	// MWI peak tracking
	tracking bool
	prevM    float64
	pkVal    float64
	pkIdx    int64
	// trackSlope is the steepest slope since the integral began rising.
	trackSlope float64

	// thresholds
	learning  bool
	learned   [64]candidate
	nLearned  int
	learnMax  float64
	spk, npk  float64
	lastR     int64
	haveLast  bool
	lastSlope float64
	lastH     float64 // integral height of the last beat
	lastAmp   float64 // and its amplitude
	lastBeatN int64   // sample of last accepted beat report, for stall recovery
	sb        candidate
	pend      candidate

	// RR history
	rr   [8]int64
	nrr  int
	rrAt int

	// output queue
	q     [32]Beat
	qHead int
	qLen  int

	// derived sample counts
	nMWI, nRefr, nReplace, nTWave, nTallT, nConfirm, nRefine, nGap, nLearn, nStall, nLatency int64
}

// NewDetector returns a detector for one lead sampled at o.Rate.
func NewDetector(o Options) (*Detector, error) {
	if !(o.Rate >= 100 && o.Rate <= 2000) {
		return nil, fmt.Errorf("%w: rate %v Hz outside 100..2000", ErrOptions, o.Rate)
	}
	if o.MainsHz != 0 && o.MainsHz != 50 && o.MainsHz != 60 {
		return nil, fmt.Errorf("%w: mains %v Hz (want 0, 50 or 60)", ErrOptions, o.MainsHz)
	}
	fs := o.Rate
	sec := func(s float64) int64 { return int64(math.Round(s * fs)) }
	d := &Detector{
		rate:     fs,
		opt:      o,
		hp:       newBiquad(highPass, 0.5, math.Sqrt2/2, fs),
		bpHP:     newBiquad(highPass, 5, math.Sqrt2/2, fs),
		bpLP:     newBiquad(lowPass, 15, math.Sqrt2/2, fs),
		useNotch: o.MainsHz != 0,
		ecg:      newRing(int(fs) + 1),
		slope:    newRing(int(fs) + 1),
		nMWI:     max(1, sec(mwiSeconds)),
		nRefr:    sec(refractory),
		nReplace: sec(replaceWindow),
		nTWave:   sec(tWaveLimit),
		nTallT:   sec(tallTLimit),
		nConfirm: sec(confirmSeconds),
		nRefine:  sec(refineSeconds),
		nGap:     sec(gapHold),
		nLearn:   sec(learnSeconds),
		nStall:   sec(stallSeconds),
		nLatency: sec(MaxLatency) - 1,
		validWin: 1,
	}
	if d.useNotch {
		d.mains = newBiquad(notch, o.MainsHz, 25, fs)
	}
	d.mwi = make([]float64, d.nMWI)
	d.Reset()
	return d, nil
}

// Rate returns the sampling rate the detector was built for.
func (d *Detector) Rate() float64 { return d.rate }

// Reset forgets all signal history (filters, thresholds, RR intervals) and
// starts a new learning period with the next valid sample. The sample
// counter continues.
func (d *Detector) Reset() {
	d.primed = false
	d.tracking = false
	d.prevM, d.pkVal = 0, 0
	d.learning = true
	d.nLearned = 0
	d.learnMax = 0
	d.spk, d.npk = 0, 0
	d.haveLast = false
	d.lastSlope, d.lastH, d.lastAmp = 0, 0, 0
	d.sb = candidate{}
	d.pend = candidate{}
	d.nrr, d.rrAt = 0, 0
	for i := range d.mwi {
		d.mwi[i] = 0
	}
	d.mwiSum, d.mwiPos = 0, 0
}

// Push feeds one sample and returns a beat when one is ready. valid false,
// NaN, ±Inf or a magnitude above MaxInput mark a gap (lead off, an invalid
// ADC value). At most one beat is returned per call; beats are at least
// 200 ms apart, so the internal queue drains faster than it fills.
func (d *Detector) Push(x float64, valid bool) (Beat, bool) {
	i := d.n
	d.n++
	if !valid || !(math.Abs(x) <= MaxInput) {
		d.validWin += (0 - d.validWin) / (qualitySeconds * d.rate)
		d.gap++
		if d.gap == d.nGap+1 {
			d.Reset()
		}
		if d.primed && d.gap <= d.nGap {
			d.held, d.haveHeld = i, true
			d.process(i, d.last)
		}
		return d.pop()
	}
	d.validWin += (1 - d.validWin) / (qualitySeconds * d.rate)
	d.gap = 0
	d.last = x
	if !d.primed {
		d.prime(i, x)
	}
	d.process(i, x)
	return d.pop()
}

func (d *Detector) prime(i int64, x float64) {
	d.hp.prime(x)
	if d.useNotch {
		d.mains.prime(0)
	}
	d.bpHP.prime(0)
	d.bpLP.prime(0)
	d.prevBP = 0
	d.primed = true
	d.start = i
	d.lastBeatN = i
}

// process runs the filters and the decision logic for sample i.
func (d *Detector) process(i int64, x float64) {
	y := d.hp.step(x)
	if d.useNotch {
		y = d.mains.step(y)
	}
	d.ecg.set(i, y)
	b := d.bpLP.step(d.bpHP.step(y))
	dv := (b - d.prevBP) * d.rate
	d.prevBP = b
	d.slope.set(i, math.Abs(dv))

	// Moving-window integral of the squared slope.
	e := dv * dv
	d.mwiSum += e - d.mwi[d.mwiPos]
	d.mwi[d.mwiPos] = e
	d.mwiPos++
	if d.mwiPos == len(d.mwi) {
		d.mwiPos = 0
		// Recompute to stop rounding drift from accumulating.
		s := 0.0
		for _, v := range d.mwi {
			s += v
		}
		d.mwiSum = s
	}
	m := d.mwiSum / float64(len(d.mwi))
	d.mwiLast = m
	d.trackPeak(i, m)

	if d.learning && i-d.start >= d.nLearn {
		d.endLearning(i)
	}
	if !d.learning {
		d.checkPending(i)
		d.checkSearchback(i)
		d.checkStall(i)
	}
}

func (d *Detector) pop() (Beat, bool) {
	if d.qLen == 0 {
		return Beat{}, false
	}
	b := d.q[d.qHead]
	b.Reported = d.n - 1
	d.qHead = (d.qHead + 1) % len(d.q)
	d.qLen--
	return b, true
}

// Quality returns a signal quality index in 0..1: the separation of the
// running QRS and noise peak levels, 1-noise/signal, weighted by the
// fraction of valid samples over the last ~5 s. It is 0 while learning.
func (d *Detector) Quality() float64 {
	if d.learning || d.spk <= 0 {
		return 0
	}
	q := 1 - d.npk/d.spk
	return math.Max(0, math.Min(1, q)) * math.Max(0, math.Min(1, d.validWin))
}

// Filtered returns the conditioned (high-passed, notched) value of the last
// sample processed.
func (d *Detector) Filtered() float64 { return d.ecg.at(d.n - 1) }
