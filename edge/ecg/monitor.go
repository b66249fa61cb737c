package ecg

import (
	"fmt"
	"math"
	"time"
)

// MonitorOptions configures a Monitor.
type MonitorOptions struct {
	Options
	// AsystoleAfter is how long without a QRS complex, on a flat and
	// connected lead, is asystole (3..10 s).
	AsystoleAfter time.Duration
}

// Flat-lead and credible-QRS limits.
const (
	// FlatRMS is the largest RMS of the conditioned signal over a block
	// of a quarter of a second that counts as a flat line (an asystole
	// with low-level noise). A lead with more is noise or a rhythm, not
	// standstill (see standstill.go).
	FlatRMS = 0.2 // mV
	// A detected complex smaller than credibleFrac of the patient's QRS
	// amplitude, or with less than credibleEnergy of its integral height
	// (the quality reference), does not end an asystole or a pause: on a
	// flat line the detector's threshold sinks towards the noise. (On the
	// MIT-BIH DS1 records 0.06 % of the true beats fall under these.)
	credibleFrac   = 0.25
	credibleEnergy = 0.1
	// endEnergy is the share of the integral height a complex of a shape
	// the patient has not shown needs to end a declared asystole.
	endEnergy = 0.3
	// noiseGoodRun is how many seconds of good quality, while the gate is
	// still closed, end the noise alarm's condition (Status.NoiseNow).
	noiseGoodRun = 2
	// hrMaxAge is how long after the last beat the heart rate is shown.
	hrMaxAge = 3.0
)

// Monitor derives what a bedside monitor shows and alarms on from one ECG
// lead: the beats (Detector), the heart rate averaged as EC13 asks (see
// hr.go), a signal quality index once a second (see quality.go), and the
// time without a QRS complex with whether the lead is flat, for the
// asystole and pause alarms. It reads no clock: time is the sample count.
type Monitor struct {
	det  *Detector
	rate float64
	asy  int64 // AsystoleAfter in samples
	lat  int64 // MaxLatency in samples

	n      int64 // samples pushed
	perSec int64 // samples per quality second
	qual   quality
	avg    rrAverage
	y      ring // conditioned signal, for QRS amplitudes
	ss     standstill
	gaps   gapLog
	margin int64 // spanMargin in samples
	hide   int64 // hideQRS in samples
	// doubt is the last complex found next to lost samples that was not
	// credible (see onBeat).
	doubt     int64
	haveDoubt bool
	qBefore   int64 // quietBefore in samples
	qAfter    int64 // quietAfter in samples
	qSmooth   int64 // quietSmooth in samples
	lastR     int64 // last credible QRS
	haveR     bool
	liveRun   int64 // samples since the lead last gave no signal (see Push)
	since     int64 // samples since the detector last (re)started

	// Since the previous Status.
	longest  int64 // longest time without a credible QRS
	asySeen  bool
	validCnt int64
	total    int64
}

// Status is the monitor's state at the last sample pushed.
type Status struct {
	// HR is the averaged heart rate in /min, valid once four clean R-R
	// intervals are known, while the signal is not noise and a beat was
	// seen within the last 3 s.
	HR      float64
	HRValid bool
	// Quality is the signal quality index of the last whole second, 0..1;
	// Noisy is the gate: below QualityGate, and until it has been good for
	// a few seconds again.
	Quality float64
	Noisy   bool
	// NoiseNow is the condition of the "ECG noise / artefact" alarm: the
	// gate is closed and the quality was poor in one of the last two
	// seconds. The gate stays closed for gateOpenSeconds of good quality
	// after a dip; those seconds do not count towards the alarm, so a dip
	// of a second or two on a clean signal raises none.
	NoiseNow bool
	// SinceQRS is the time since the last credible QRS complex (or since
	// the lead has given a valid signal, if that is shorter), seconds.
	SinceQRS float64
	// LongestGap is the longest time without a QRS complex since the
	// previous Status: a finished R-R interval or SinceQRS, seconds. A
	// gap that held loud noise is not an R-R interval and is not counted
	// (see standstill.go).
	LongestGap float64
	// Asystole is true when, at any sample since the previous Status, the
	// lead was connected, without a QRS complex for AsystoleAfter and
	// flat (blocks of RMS ≤ FlatRMS; after loud noise, flat for longer:
	// see standstill.go); it lasts until a QRS complex. Flat tells
	// whether the lead has been flat for the last second.
	Asystole bool
	Flat     bool
	// Valid is the fraction of valid samples since the previous Status.
	Valid float64
}

// NewMonitor returns a monitor for one lead.
func NewMonitor(o MonitorOptions) (*Monitor, error) {
	d, err := NewDetector(o.Options)
	if err != nil {
		return nil, err
	}
	if o.AsystoleAfter < 3*time.Second || o.AsystoleAfter > 10*time.Second {
		return nil, fmt.Errorf("%w: asystole after %v (want 3s..10s)", ErrOptions, o.AsystoleAfter)
	}
	fs := d.rate
	m := &Monitor{
		det:     d,
		rate:    fs,
		asy:     int64(math.Round(o.AsystoleAfter.Seconds() * fs)),
		lat:     int64(math.Round(MaxLatency * fs)),
		margin:  int64(math.Round(spanMargin * fs)),
		hide:    max(1, int64(math.Round(hideQRS*fs))),
		qBefore: int64(math.Round(quietBefore * fs)),
		qAfter:  int64(math.Round(quietAfter * fs)),
		qSmooth: max(1, int64(math.Round(quietSmooth*fs))),
		perSec:  int64(math.Round(fs)),
		qual:    newQuality(fs),
		y:       newRing(int(4*fs) + 1),
		ss:      newStandstill(fs),
		gaps:    gapLog{join: int64(math.Round(joinGap * fs))},
	}
	return m, nil
}

// Detector returns the monitor's beat detector.
func (m *Monitor) Detector() *Detector { return m.det }

// Push feeds one sample (see Detector.Push) and returns the beat the
// detector reports, if any.
func (m *Monitor) Push(x float64, valid bool) (Beat, bool) {
	i := m.n
	m.n++
	ok := valid && math.Abs(x) <= MaxInput
	wasLearning := m.det.learning
	b, got := m.det.Push(x, valid)
	if m.det.learning && !wasLearning {
		// The detector restarted after a gap: so do the R-R average, the
		// quality measures' time base and the R-R timer (the time the
		// lead was off is not an R-R interval).
		m.avg.reset()
		m.since = 0
		m.haveR = false
		m.ss.reset()
	}
	m.total++
	if ok {
		m.validCnt++
		m.since++
	} else {
		if m.gaps.n > 0 && !m.gaps.judged && m.gaps.to[m.gaps.newest()] < i-1-m.gaps.join {
			m.judgeGap(i - 1) // a new stretch starts before the last was judged
		}
		m.gaps.invalid(i)
	}
	// A stretch of invalid samples that the detector bridges (up to
	// gapHold) is time of the lead, not a lead off: on a flat lead it
	// does not restart the time without a QRS complex, or lost samples
	// would hold off the asystole alarm. A longer one restarts it (the
	// lead-off or no-data technical condition, not a standstill).
	if ok || (m.det.primed && m.det.gap <= m.det.nGap) {
		m.liveRun++
	} else {
		m.liveRun = 0
	}
	y := 0.0
	if m.det.primed {
		y = m.det.Filtered()
	}
	m.y.set(i, y)
	if ok && m.gaps.n > 0 && !m.gaps.judged && i-m.gaps.to[m.gaps.newest()] >= m.qAfter {
		m.judgeGap(i)
	}
	m.ss.push(i, y, ok)
	m.qual.push(i, y, m.det.mwiLast, ok)
	if got && !m.onBeat(i, b) {
		// Not a measured R-R interval (gaps.go): no beat-to-beat rate.
		b.RR, b.HR = 0, 0
	}
	if m.n%m.perSec == 0 {
		m.qual.second(i, m.since)
		if m.qual.gate {
			m.avg.reset()
		}
	}
	gap := m.gapAt(i)
	if m.pauseEvidence(i-gap, i) {
		m.longest = max(m.longest, gap)
	}
	if m.ss.check(gap, m.asy) {
		m.asySeen = true
	}
	return b, got
}

// onBeat takes a detected beat into the averages and timers. It returns
// false when the R-R interval the beat ends spans invalid samples.
func (m *Monitor) onBeat(now int64, b Beat) bool {
	lo, hi := b.Index-int64(0.06*m.rate), min(now, b.Index+int64(0.06*m.rate))
	lo = max(lo, now-m.y.size()+1)
	mn, mx := math.Inf(1), math.Inf(-1)
	for k := lo; k <= hi; k++ {
		v := m.y.at(k)
		mn, mx = math.Min(mn, v), math.Max(mx, v)
	}
	amp := 0.0
	if mx >= mn {
		amp = mx - mn
	}
	refAmp, refM := m.qual.reference(now)
	bi := m.qual.beat(b.Index, now, amp, &m.y)
	if refAmp > 0 && (amp < credibleFrac*refAmp || bi.mpk < credibleEnergy*refM) {
		// Not a QRS for the timers and the rate. Next to lost samples it
		// may be one whose peak they took: the interval across it is not
		// measured (gaps.go).
		if m.gaps.any(b.Index-m.margin, b.Index+m.margin, 1) {
			m.doubt, m.haveDoubt = b.Index, true
		}
		return true
	}
	if m.ss.on && !bi.match && bi.mpk < endEnergy*refM {
		// A declared standstill ends with a complex of a shape the
		// patient has shown, or one with a good share of the QRS energy
		// (an escape beat of a new shape): the falling threshold finds
		// peaks in low-level noise that pass the test above (up to 0.15
		// of the energy with 0.1 mV of noise at 250 /s).
		return true
	}
	m.ss.on = false // a QRS complex ends a standstill
	measured := true
	if m.haveR && b.Index > m.lastR && b.RR > 0 {
		rr := b.Index - m.lastR
		measured = !m.gaps.any(m.lastR-m.margin, b.Index+m.margin, m.hide) && !m.doubtIn(m.lastR, b.Index)
		if hr, ok := m.avg.rate(m.rate, now); measured && ok && float64(rr) > missedRR*60*m.rate/hr &&
			m.gaps.any(m.lastR-m.margin, b.Index+m.margin, 1) {
			// Shorter lost stretches rarely hide a beat, but an interval
			// across them that looks like two is taken for two.
			measured = false
		}
		if m.pauseEvidence(m.lastR, b.Index) {
			m.longest = max(m.longest, rr) // an R-R interval, not noise
		}
		switch {
		case m.qual.gate || b.RR == 0:
			// During noise, or the first beat after a restart.
		case !measured:
			// Spans invalid samples: beats may be lost in them, so it is
			// neither an interval nor a pause of the average.
		case float64(rr) > MaxRR*m.rate:
			m.avg.reset()
		default:
			m.avg.add(rr, b.Index)
		}
	}
	if !m.haveR || b.Index > m.lastR {
		m.lastR, m.haveR = b.Index, true
	}
	// A clean QRS complex ends the context of a noise episode for the
	// standstill (standstill.go): found while the gate was open and, once
	// the patient's shapes are known, of one of them (a spike in a quiet
	// stretch of noise is not).
	if !m.qual.gate && (bi.match || !m.qual.lib.ready()) {
		m.ss.cleanBeat(b.Index)
	}
	return measured
}

// judgeGap judges the newest stretch of invalid samples on the signal up
// to sample now (see gaps.go): quiet when the valid signal around it spans
// less than quietFrac of the patient's QRS amplitude.
func (m *Monitor) judgeGap(now int64) {
	g := &m.gaps
	j := g.newest()
	g.judged = true
	ref, _ := m.qual.reference(now)
	if ref <= 0 {
		return // no QRS amplitude to judge against: not quiet
	}
	// The signal is smoothed over quietSmooth first, so that low-level
	// noise on a flat lead is not taken for the traces of a QRS complex.
	lo := max(g.from[j]-m.qBefore, now-m.y.size()+1)
	var win [64]float64
	w := int(min(m.qSmooth, int64(len(win))))
	sum, n := 0.0, 0
	mn, mx := math.Inf(1), math.Inf(-1)
	for k := lo; k <= now; k++ {
		if k >= g.from[j] && k <= g.to[j] {
			sum, n = 0, 0 // the stretch itself: start again after it
			continue
		}
		v := m.y.at(k)
		if n >= w {
			sum -= win[n%w]
		}
		win[n%w] = v
		sum += v
		n++
		if n >= w {
			a := sum / float64(w)
			mn, mx = math.Min(mn, a), math.Max(mx, a)
		}
	}
	g.quiet[j] = mx >= mn && mx-mn < quietFrac*ref
}

// doubtIn tells whether a complex next to lost samples that was not taken
// for a QRS lies in from..to.
func (m *Monitor) doubtIn(from, to int64) bool {
	return m.haveDoubt && m.doubt > from && m.doubt < to
}

// pauseEvidence tells whether the time from..to without a QRS complex is
// a measured one, to be shown as LongestGap: it held no loud noise (see
// standstill.go) and no stretch of lost samples that can hide a QRS
// complex, unless the signal around it was quiet (gaps.go).
func (m *Monitor) pauseEvidence(from, to int64) bool {
	return !m.ss.noisy() && !m.gaps.loud(from, to, m.hide) && !m.doubtIn(from, to)
}

// gapAt is the time without a credible QRS as known at sample i: since the
// last one, but no longer than the lead has given a signal. It is taken
// MaxLatency back, the longest a QRS can take to be reported, so that a
// beat not yet reported does not stretch the gap.
func (m *Monitor) gapAt(i int64) int64 {
	i -= m.lat
	g := m.liveRun - m.lat
	if m.haveR {
		g = min(g, i-m.lastR)
	}
	return max(g, 0)
}

// Status returns the state at the last sample pushed and starts the next
// interval of LongestGap, Asystole and Valid.
func (m *Monitor) Status() Status {
	i := m.n - 1
	gap := m.gapAt(i)
	st := Status{
		Quality:    m.qual.q,
		Noisy:      m.qual.gate,
		NoiseNow:   m.qual.gate && m.qual.goodRun < noiseGoodRun,
		SinceQRS:   float64(gap) / m.rate,
		LongestGap: float64(m.longest) / m.rate, // gaps that held noise are not counted
		Asystole:   m.asySeen,
		Flat:       m.ss.flat(),
		Valid:      1,
	}
	if m.total > 0 {
		st.Valid = float64(m.validCnt) / float64(m.total)
	}
	if hr, ok := m.avg.rate(m.rate, i); ok && !m.qual.gate && !m.det.learning && float64(gap) <= hrMaxAge*m.rate {
		st.HR, st.HRValid = hr, true
	}
	m.longest, m.asySeen, m.validCnt, m.total = 0, false, 0, 0
	if m.pauseEvidence(i-gap, i) {
		m.longest = gap
	}
	return st
}

// Features returns the measures behind the last quality index, for tests
// and tuning.
func (m *Monitor) Features() QualityFeatures { return m.qual.feat }
