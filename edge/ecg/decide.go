package ecg

import "math"

// trackPeak finds local maxima of the integral and hands each one, once
// confirmed, to the decision logic.
func (d *Detector) trackPeak(i int64, m float64) {
	if !d.tracking {
		if m > d.prevM {
			d.tracking = true
			d.pkVal, d.pkIdx = m, i
			d.trackSlope = d.slope.at(i)
		}
		d.prevM = m
		return
	}
	d.prevM = m
	d.trackSlope = max(d.trackSlope, d.slope.at(i))
	if m >= d.pkVal {
		d.pkVal, d.pkIdx = m, i
		return
	}
	if m < d.pkVal/2 || i-d.pkIdx >= d.nConfirm {
		d.tracking = false
		d.candidate(i, d.pkIdx, d.pkVal)
	}
}

// candidate builds a candidate for an integral peak at pk, confirmed at
// sample now, and classifies it.
func (d *Detector) candidate(now, pk int64, h float64) {
	oldest := max(d.start, now-d.nLatency, now-d.slope.size()+1)
	// Centre of the QRS: energy-weighted centroid of the squared slope over
	// the integral window; the steepest slope there feeds T-wave checks.
	best, sw, swk := 0.0, 0.0, 0.0
	for k := max(pk-d.nMWI+1, oldest); k <= pk; k++ {
		s := d.slope.at(k)
		best = max(best, s)
		sw += s * s
		swk += s * s * float64(k-pk)
	}
	k0 := pk
	if sw > 0 {
		k0 = pk + int64(math.Round(swk/sw))
	}
	// R peak: extremum of the conditioned signal around the centre.
	r := k0
	amp := 0.0
	for k := max(k0-d.nRefine, oldest); k <= min(k0+d.nRefine, now); k++ {
		if v := d.ecg.at(k); math.Abs(v) > math.Abs(amp) {
			amp, r = v, k
		}
	}
	c := candidate{r: r, h: h, slope: best, amp: amp, active: true, bridged: d.bridgedNear(pk)}
	if d.learning {
		if d.nLearned < len(d.learned) {
			d.learned[d.nLearned] = c
			d.nLearned++
		}
		d.learnMax = max(d.learnMax, h)
		return
	}
	d.offer(now, c)
}

// offer holds a candidate until its latency deadline so that a larger
// complex within the refractory period (a QRS after a tall P wave or an
// artefact) can replace it.
func (d *Detector) offer(now int64, c candidate) {
	if d.pend.active {
		if c.r-d.pend.r < d.nRefr {
			if c.h > d.pend.h {
				d.pend = c
			}
			return
		}
		if c.r-d.pend.r < d.nReplace && c.h > replaceRatio*d.pend.h && c.slope > d.pend.slope {
			d.pend = c
			return
		}
		d.classify(now, d.pend)
	}
	d.pend = c
	d.checkPending(now)
}

// checkPending classifies the held candidate once its deadline has come,
// unless a larger integral peak within its refractory period is still
// rising.
func (d *Detector) checkPending(now int64) {
	if !d.pend.active || now-d.pend.r < d.nLatency {
		return
	}
	c := d.pend
	d.pend = candidate{}
	if d.tracking {
		dr := d.pkIdx - d.nMWI/2 - c.r
		if (d.pkVal > c.h && dr < d.nRefr) || (d.pkVal > replaceRatio*c.h && d.trackSlope > c.slope && dr < d.nReplace) {
			return
		}
	}
	d.classify(now, c)
}

// endLearning sets the initial levels from the learning period and
// classifies the candidates seen in it.
func (d *Detector) endLearning(now int64) {
	d.learning = false
	d.spk = 0.5 * d.learnMax
	d.npk = 0.125 * d.learnMax
	for k := 0; k < d.nLearned; k++ {
		d.learned[k].learning = true
		d.offer(now, d.learned[k])
	}
	d.nLearned = 0
	d.lastBeatN = now
}

func (d *Detector) threshold() float64 { return d.npk + thresholdFrac*(d.spk-d.npk) }

// classify decides whether a candidate is a QRS complex.
func (d *Detector) classify(now int64, c candidate) {
	if d.haveLast && c.r-d.lastR < d.nRefr {
		return
	}
	th := d.threshold()
	isT := d.haveLast && c.r-d.lastR < d.nTWave && d.tWave(c)
	if c.h >= th && !isT {
		// Clamp so that one artefact cannot lift the level over real beats.
		d.spk = 0.125*min(c.h, 3*d.spk) + 0.875*d.spk
		d.accept(now, c, false)
		return
	}
	// On a clean lead a complex well above the noise level but under the
	// threshold (an aberrated or low-amplitude ectopic beat) is a beat;
	// waiting for searchback would only report it late, if at all.
	if !isT && c.h >= 0.5*th && c.h >= cleanSNR*d.npk && d.haveLast && c.r-d.lastR >= d.nTWave {
		d.spk = 0.25*c.h + 0.75*d.spk
		d.accept(now, c, false)
		return
	}
	if c.bridged {
		// Samples lost over a QRS complex take the steepest part of its
		// slope, and most of its integral, with them: a complex next to
		// a bridged gap, at a plausible time after the last beat, is a
		// beat at a lower height. It does not move the levels, and it is
		// not the noise level either.
		if !isT && c.h >= bridgedFrac*th && d.haveLast && d.nrr > 0 && float64(c.r-d.lastR) >= bridgedRR*d.meanRR() {
			d.accept(now, c, false)
		}
		return
	}
	d.npk = 0.125*c.h + 0.875*d.npk
	if !isT && c.h >= 0.5*th && (!d.sb.active || c.h > d.sb.h) {
		d.sb = c
	}
}

// bridgedNear tells whether the integral peak at pk may hold samples
// bridged over a gap: one lies within two integral windows before it (the
// window and the band-pass filters' response).
func (d *Detector) bridgedNear(pk int64) bool {
	return d.haveHeld && d.held >= pk-2*d.nMWI
}

// meanRR is the mean of the last R-R intervals held (nrr > 0).
func (d *Detector) meanRR() float64 {
	var sum int64
	for k := 0; k < d.nrr; k++ {
		sum += d.rr[k]
	}
	return float64(sum) / float64(d.nrr)
}

// tWave tells a T wave from a QRS complex within tWaveLimit of a beat: its
// steepest slope is under half the beat's (Pan & Tompkins). Within
// tallTLimit, where the T waves of QT intervals up to about 0.4 s peak, a
// candidate with under 3/4 of the beat's slope and under half its energy in
// the QRS band is a T wave too: a tall, broad T has most of its energy
// below that band, while a premature ventricular beat that early (R on T)
// is rare and usually steep.
//
// From tallTLimit on, an early premature ventricular beat is told from a T
// wave that fails the slope test when it is a big complex of the other
// polarity (at least 0.7 of the beat's amplitude, opposite in sign) that
// is well above the threshold and not much flatter than the beat: the T
// wave of a normal beat points the way its QRS does. Tuned on the MIT-BIH
// DS1 records only (it keeps 2 more of their 226 premature ventricular
// beats 300-370 ms after the previous beat, and accepts none of the 14,144
// T waves in that window).
func (d *Detector) tWave(c candidate) bool {
	dr := c.r - d.lastR
	if c.slope < 0.5*d.lastSlope {
		early := dr >= d.nTallT && c.amp*d.lastAmp < 0 && math.Abs(c.amp) >= 0.7*math.Abs(d.lastAmp) &&
			c.slope >= 0.4*d.lastSlope && c.h >= 1.4*d.threshold()
		return !early
	}
	return dr < d.nTallT && c.slope < 0.75*d.lastSlope && c.h < 0.5*d.lastH
}

// checkSearchback accepts the best sub-threshold candidate when no beat
// has been found for searchbackRR average RR intervals.
func (d *Detector) checkSearchback(now int64) {
	if !d.sb.active || !d.haveLast || d.nrr == 0 {
		return
	}
	var sum int64
	for k := 0; k < d.nrr; k++ {
		sum += d.rr[k]
	}
	avg := float64(sum) / float64(d.nrr)
	if float64(now-d.lastR) <= searchbackRR*avg {
		return
	}
	c := d.sb
	d.spk = 0.25*c.h + 0.75*d.spk
	d.accept(now, c, true)
}

// checkStall lowers the signal level after a long time without beats so
// that a detector whose level was set by an artefact recovers.
func (d *Detector) checkStall(now int64) {
	if now-d.lastBeatN >= d.nStall {
		d.spk *= 0.5
		d.lastBeatN = now
	}
}

func (d *Detector) accept(now int64, c candidate, searchback bool) {
	b := Beat{Index: c.r, Reported: now, Amplitude: c.amp, Searchback: searchback, Learning: c.learning}
	if d.haveLast && c.r > d.lastR {
		b.RR = c.r - d.lastR
		b.HR = 60 * d.rate / float64(b.RR)
		d.rr[d.rrAt] = b.RR
		d.rrAt = (d.rrAt + 1) % len(d.rr)
		d.nrr = min(d.nrr+1, len(d.rr))
	}
	d.lastR, d.haveLast = c.r, true
	d.lastSlope, d.lastH, d.lastAmp = c.slope, c.h, c.amp
	d.lastBeatN = now
	d.sb = candidate{}
	if d.nrr > 0 {
		b.HRAvg = 60 * d.rate / d.medianRR()
	}
	b.Quality = d.Quality()
	if d.qLen < len(d.q) {
		d.q[(d.qHead+d.qLen)%len(d.q)] = b
		d.qLen++
	}
}

func (d *Detector) medianRR() float64 {
	var s [8]int64
	n := copy(s[:], d.rr[:d.nrr])
	for a := 1; a < n; a++ {
		for b := a; b > 0 && s[b] < s[b-1]; b-- {
			s[b], s[b-1] = s[b-1], s[b]
		}
	}
	if n%2 == 1 {
		return float64(s[n/2])
	}
	return float64(s[n/2-1]+s[n/2]) / 2
}
