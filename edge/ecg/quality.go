package ecg

import (
	"math"
	"slices"
)

// The signal quality index, once a second over the last two seconds. Two
// kinds of noise make a QRS detector count beats that are not there:
//
//   - high-frequency noise (muscle, electrical): the median magnitude of
//     the signal's 20-40 Hz band (mains notched out), relative to the QRS
//     amplitude. A clean ECG has energy in that band only inside its QRS
//     complexes, which the median ignores;
//   - motion artefact (electrode motion), which lies in the QRS band
//     itself: the median of the detector's moving-window integral relative
//     to the integral's height at QRS complexes, counted as noise only when
//     the beats it produces are irregular (R-R coefficient of variation
//     over 4 s) and there is some high-frequency noise as well, so that
//     ventricular tachycardia and flutter, regular waves that fill the QRS
//     band, stay a rhythm and not noise.
//
// The QRS amplitude and integral height are the medians over the last 8
// beats that were found while the signal was locally clean; they are not
// updated during noise, so a noise episode is measured against the patient's
// own QRS complexes, not against the noise's peaks. Without such beats (the
// first seconds, or noise from the start) the high-frequency measure is
// taken against 1 mV.
//
// Two more terms catch electrode motion that has taken the place of the
// ECG, whose slow swings with steep edges the detector takes for beats:
//
//   - shape: the share of the beats of the last 3 s that resemble a QRS
//     shape the patient has shown on a clean signal, or repeat a new one
//     (library.go); few such beats count as noise when there is some
//     high-frequency noise or low-frequency power to explain them;
//   - low frequencies: the share of the power below 5 Hz against the
//     patient's own (balance.go), unless the beats have the patient's
//     shapes (ectopic beats change the balance too). A flat line, a pause
//     or a standstill has too little power to be judged and is not noise.
//
// The index is 1 − max(hf/hfBad, motion, shape, low frequencies), clamped
// to 0..1 and weighted by the fraction of valid samples: 1 is a clean
// signal, below QualityGate the heart rate is not shown. The gate closes
// at once and opens again after gateOpenSeconds of good quality.
const (
	// QualityGate is the index below which the signal counts as noise.
	QualityGate = 0.5
	hfBad       = 0.04 // hf at which the index reaches 0 (0.02 at the gate)
	// hfBadSteady replaces hfBad while the beats keep coming and have the
	// shapes the patient has shown (the rate may change): the noise is not
	// making the detector count wrong.
	hfBadSteady = 0.07
	steadyMatch = 0.8
	steadyGap   = 1.5 // s: and the last beat is this recent
	motionBad   = 0.4 // integral ratio at which the motion part reaches 1
	motionCVLo  = 0.2 // R-R variation below which motion does not count
	motionCVHi  = 0.4 // and at which it counts fully
	motionHF    = 0.02
	unlikeLo    = 0.2   // share of beats matching a template at which unlike counts fully
	unlikeHi    = 0.5   // and above which it does not count
	cleanHF     = 0.015 // a second is locally clean below these
	cleanM      = 0.1
	qualWindow  = 2.0   // s over which the medians are taken
	refMaxAge   = 120.0 // s: an older reference is not used
	cvWindow    = 4.0   // s of beats for the R-R variation
	qrsHalf     = 0.06  // s either side of a beat left out of the noise median
	// gateOpenSeconds of quality at or above the gate open it again.
	gateOpenSeconds = 3
	refBeats        = 8
	beatHistory     = 32
)

// The shape and low-frequency terms (library.go, balance.go).
const (
	matchWindow = 3.0 // s of beats for the share matching a template
	// balClean is the low-frequency share above which a second is not
	// locally clean (its beats do not enter the reference).
	balClean = 1.2
	balLo    = 1.15 // low-frequency share at which the index starts to fall
	balHi    = 1.45 // and at which it reaches 0
	// The low-frequency term counts in full while at most lfFull of the
	// beats of the last matchWindow resemble the patient's shapes or
	// repeat a new one, and not at all when lfNone or more do: ectopic
	// beats the patient has shown explain a changed balance.
	lfNone = 0.9
	lfFull = 0.4
)

// beatInfo is what the quality measure keeps of a beat.
type beatInfo struct {
	r        int64
	amp, mpk float64 // QRS peak-to-peak (mV) and integral height
	seen     bool    // its shape was compared with the library
	match    bool    // it resembles a shape the patient has shown
	repeats  bool    // or two of the beats before it
}

// quality computes the index from per-sample inputs.
type quality struct {
	rate    float64
	hf      []biquad
	absHF   ring // |20-40 Hz band|
	mwi     ring
	win     int // samples in the median window
	scratch []float64
	beats   [beatHistory]beatInfo
	nb, bAt int
	ref     [refBeats]beatInfo // beats of locally clean seconds
	nref    int
	refAt   int
	clean   bool // the last second was locally clean
	q       float64
	feat    QualityFeatures
	gate    bool // closed: noise
	goodRun int
	validN  int // valid samples in the current second
	sampleN int
	lib     library
	bal     balance
	share   float64 // the low-frequency share of the last second
}

// QualityFeatures are the measures behind the index, for tests and tuning:
// the high-frequency noise against the QRS amplitude, the motion score, the
// integral against its height at clean beats, the R-R variation, the share
// of beats matching a template, and the low-frequency share of the power
// against the patient's own (balance.go).
type QualityFeatures struct {
	HF, Motion, MWIRatio, CV, Match, LowShare, Plausible, Unlike float64
}

func newQuality(fs float64) quality {
	q := quality{rate: fs, q: 0, gate: false}
	q.hf = append(q.hf, newBiquad(highPass, 20, math.Sqrt2/2, fs), newBiquad(lowPass, 40, math.Sqrt2/2, fs), newBiquad(lowPass, 40, math.Sqrt2/2, fs))
	for _, f := range []float64{50, 60} {
		if f < 0.45*fs {
			q.hf = append(q.hf, newBiquad(notch, f, 5, fs))
		}
	}
	q.win = int(math.Round(qualWindow * fs))
	q.absHF = newRing(q.win + 1)
	q.mwi = newRing(int(6*fs) + 1) // also looked back into for beat heights
	q.scratch = make([]float64, q.win)
	q.lib = newLibrary(fs)
	q.bal = newBalance(fs)
	return q
}

// push feeds the conditioned sample y and the detector's integral m at
// sample i.
func (q *quality) push(i int64, y, m float64, valid bool) {
	q.bal.push(y)
	h := y
	for k := range q.hf {
		h = q.hf[k].step(h)
	}
	q.absHF.set(i, math.Abs(h))
	q.mwi.set(i, m)
	q.sampleN++
	if valid {
		q.validN++
	}
}

// beat records a detected beat with its QRS amplitude; the integral height
// is looked up around its R peak, the shape in y.
func (q *quality) beat(r, now int64, amp float64, y *ring) beatInfo {
	mpk := 0.0
	lo := max(r-int64(0.1*q.rate), now-q.mwi.size()+1)
	for k := lo; k <= min(now, r+int64(0.15*q.rate)); k++ {
		mpk = max(mpk, q.mwi.at(k))
	}
	v := q.lib.beat(y, r, now, amp, q.clean && !q.gate, q.share > 0 && q.share < balLo)
	b := beatInfo{r: r, amp: amp, mpk: mpk, seen: v.seen, match: v.known, repeats: v.repeats}
	q.beats[q.bAt] = b
	q.bAt = (q.bAt + 1) % beatHistory
	q.nb = min(q.nb+1, beatHistory)
	if q.clean {
		q.ref[q.refAt] = b
		q.refAt = (q.refAt + 1) % refBeats
		q.nref = min(q.nref+1, refBeats)
	}
	return b
}

// recent returns the k-th most recent beat (k = 0 is the newest).
func (q *quality) recent(k int) beatInfo {
	return q.beats[(q.bAt-1-k+2*beatHistory)%beatHistory]
}

// medianOutsideQRS is the median of src over the last n samples, leaving
// out qrsHalf around each detected beat: a QRS complex has energy in every
// band, and at fast rates it fills much of the window.
func (q *quality) medianOutsideQRS(src *ring, now int64, n int) float64 {
	s := q.scratch[:0]
	from := now - int64(n) + 1
	half := int64(qrsHalf * q.rate)
	k := 0 // beats newest first; walk them oldest first against the samples
	for k < q.nb && q.recent(k).r+half >= from {
		k++
	}
	for i := from; i <= now; i++ {
		for k > 0 && q.recent(k-1).r+half < i {
			k--
		}
		if k > 0 {
			if r := q.recent(k - 1).r; i >= r-half && i <= r+half {
				continue
			}
		}
		s = append(s, src.at(i))
	}
	if len(s) < n/4 {
		return q.median(src, now, n) // beats everywhere: use them all
	}
	slices.Sort(s)
	return s[len(s)/2]
}

func (q *quality) median(src *ring, now int64, n int) float64 {
	s := q.scratch[:0]
	for k := now - int64(n) + 1; k <= now; k++ {
		s = append(s, src.at(k))
	}
	slices.Sort(s)
	return s[len(s)/2]
}

// second evaluates the index at sample now (the last of a second), given
// how many samples have been processed since the detector last started.
func (q *quality) second(now, since int64) {
	validFrac := 1.0
	if q.sampleN > 0 {
		validFrac = float64(q.validN) / float64(q.sampleN)
	}
	q.validN, q.sampleN = 0, 0
	lowShare := q.bal.second()
	q.share = lowShare
	if since < int64(q.win) {
		// Not two seconds of signal yet: unknown, shown as 0, but not
		// noise (the gate stays as it was: open at the start).
		q.q, q.feat, q.clean = 0, QualityFeatures{}, false
		q.bal.judged(false)
		q.lib.second(now, q.rate, false)
		return
	}
	medH := q.medianOutsideQRS(&q.absHF, now, q.win)
	medM := q.median(&q.mwi, now, q.win)

	// Local references: beats of the last 5 s.
	var amps, mpks [refBeats]float64
	n := 0
	for k := 0; k < q.nb && n < refBeats; k++ {
		b := q.recent(k)
		if b.r <= now-int64(5*q.rate) {
			break
		}
		amps[n], mpks[n] = b.amp, b.mpk
		n++
	}
	localAmp, localM := medianOf(amps[:n]), medianOf(mpks[:n])
	q.clean = n > 0 && localAmp > 0 && localM > 0 && medH/localAmp < cleanHF && medM/localM < cleanM && lowShare < balClean

	refAmp, refM := q.reference(now)
	if refAmp == 0 {
		refAmp = 1 // mV, when no clean beat is known
	}
	known, plausible, seen := q.shapeFracs(now)
	f := QualityFeatures{HF: medH / math.Max(refAmp, 1e-3), CV: q.rrCV(now), Match: known, Plausible: plausible, LowShare: lowShare}
	if refM > 0 {
		f.MWIRatio = medM / refM
		f.Motion = clamp01(f.MWIRatio/motionBad) * clamp01((f.CV-motionCVLo)/(motionCVHi-motionCVLo)) * clamp01(f.HF/motionHF)
	}
	// Beats that match no shape the patient has shown, with some
	// high-frequency noise: the detector is counting noise.
	f.Motion = math.Max(f.Motion, clamp01((unlikeHi-f.Match)/(unlikeHi-unlikeLo))*clamp01(f.HF/motionHF))
	bad := hfBad
	if f.Match >= steadyMatch && q.nb > 0 && float64(now-q.recent(0).r) < steadyGap*q.rate {
		bad = hfBadSteady
	}
	// Beats that neither resemble the patient's shapes nor repeat a new
	// one, with some noise to explain them (high-frequency, or power
	// moved to low frequencies); and power moved to low frequencies,
	// unless the beats explain it (ectopic beats the patient has shown).
	lf := clamp01((lowShare - balLo) / (balHi - balLo))
	unlike := 0.0
	if q.lib.ready() && seen >= 2 {
		unlike = clamp01((unlikeHi-plausible)/(unlikeHi-unlikeLo)) * math.Max(clamp01(f.HF/motionHF), lf)
		lf *= clamp01((lfNone - plausible) / (lfNone - lfFull))
	}
	f.Unlike = unlike
	q.feat = f
	q.q = clamp01(1-math.Max(math.Max(f.HF/bad, f.Motion), math.Max(unlike, lf))) * clamp01(validFrac)
	q.gateStep(q.q)
	q.bal.judged(!q.gate)
	q.lib.second(now, q.rate, q.clean && !q.gate)
}

// reference returns the QRS amplitude and integral height of the last
// clean beats, or zeros when there are none younger than refMaxAge.
func (q *quality) reference(now int64) (amp, mpk float64) {
	if q.nref == 0 {
		return 0, 0
	}
	newest := q.ref[(q.refAt-1+refBeats)%refBeats]
	if float64(now-newest.r) > refMaxAge*q.rate {
		return 0, 0
	}
	var amps, mpks [refBeats]float64
	for k := 0; k < q.nref; k++ {
		amps[k], mpks[k] = q.ref[k].amp, q.ref[k].mpk
	}
	return medianOf(amps[:q.nref]), medianOf(mpks[:q.nref])
}

func (q *quality) gateStep(v float64) {
	if v < QualityGate {
		q.gate, q.goodRun = true, 0
		return
	}
	q.goodRun++
	if q.goodRun >= gateOpenSeconds {
		q.gate = false
	}
}

// shapeFracs returns, of the beats of the last matchWindow seconds that
// were compared with the library, the fraction that resembled a shape the
// patient has shown, the fraction that did or repeated a new one, and how
// many there were (both fractions are 1 with fewer than 2 beats or while
// the library is empty).
func (q *quality) shapeFracs(now int64) (known, plausible float64, n int) {
	k, p := 0, 0
	for i := 0; i < q.nb; i++ {
		b := q.recent(i)
		if b.r <= now-int64(matchWindow*q.rate) {
			break
		}
		if !b.seen {
			continue
		}
		n++
		if b.match {
			k++
		}
		if b.match || b.repeats {
			p++
		}
	}
	if n < 2 || !q.lib.ready() {
		return 1, 1, n
	}
	return float64(k) / float64(n), float64(p) / float64(n), n
}

// rrCV is the coefficient of variation of the R-R intervals of the beats of
// the last cvWindow seconds (0 with fewer than 3 intervals).
func (q *quality) rrCV(now int64) float64 {
	var rr [beatHistory]float64
	n := 0
	for k := 0; k+1 < q.nb; k++ {
		b, a := q.recent(k), q.recent(k+1)
		if b.r <= now-int64(cvWindow*q.rate) {
			break
		}
		rr[n] = float64(b.r - a.r)
		n++
	}
	if n < 3 {
		return 0
	}
	mu := 0.0
	for _, v := range rr[:n] {
		mu += v
	}
	mu /= float64(n)
	sd := 0.0
	for _, v := range rr[:n] {
		sd += (v - mu) * (v - mu)
	}
	return math.Sqrt(sd/float64(n)) / mu
}

func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var s [beatHistory]float64
	t := s[:len(v)]
	copy(t, v)
	slices.Sort(t)
	return t[len(t)/2]
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }
