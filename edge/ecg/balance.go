package ecg

import "math"

// Motion artefact (electrode motion) moves the signal's power towards low
// frequencies: an electrode that slides or lifts makes slow swings of
// millivolts with steep edges, which the detector takes for QRS complexes
// and whose 20-40 Hz content is small. The patient's ECG has a balance of
// its own between the power below 5 Hz (P and T waves, the slow parts of
// the QRS) and the power in the QRS band (5-15 Hz, the detector's band),
// which changes little from minute to minute, even in atrial fibrillation
// or with ectopic beats. The balance measure is the share of the power
// below 5 Hz over the last balWindow seconds, divided by the same share on
// the patient's clean signal (an average over the seconds the gate passed,
// taken balLag seconds late so that the start of an artefact does not
// enter it before the gate has closed). Noise Stress Test electrode motion
// at 0 dB SNR raises it to 1.4-1.7; the 22 MIT-BIH DS1 records as they
// are stay under 1.25 in 99 % of their seconds.
const (
	balWindow = 3   // s over which the share is taken
	balLag    = 5   // s a clean second waits before it enters the reference
	balRef    = 20  // s: time constant of the reference, in clean seconds
	balSlow   = 120 // s: and after balStuck of noise, so a lasting change is learned
	balStuck  = 60  // s
	balMinRef = 5   // clean seconds before the measure is used
	balLowHz  = 5.0 // the low band is below, the QRS band from here to 15 Hz
)

const (
	balHist = 24 // seconds kept, >= balWindow + balLag
	// balMinPower is the least power over the window, against the
	// patient's own per second, for which the share is taken.
	balMinPower = 0.5
)

type balance struct {
	lp        [2]biquad
	bp        [4]biquad
	low, band float64 // sums of squares in the current second
	secLow    [balHist]float64
	secBand   [balHist]float64
	secOK     [balHist]bool // the gate was open and the second above it
	n         int           // seconds held, up to balHist
	at        int
	refLow    float64 // reference powers (per second)
	refBand   float64
	refN      int
	closedRun int // seconds the gate has been closed
}

func newBalance(fs float64) balance {
	b := balance{lp: [2]biquad{newBiquad(lowPass, balLowHz, math.Sqrt2/2, fs), newBiquad(lowPass, balLowHz, math.Sqrt2/2, fs)}}
	b.bp = [4]biquad{newBiquad(highPass, balLowHz, math.Sqrt2/2, fs), newBiquad(highPass, balLowHz, math.Sqrt2/2, fs),
		newBiquad(lowPass, 15, math.Sqrt2/2, fs), newBiquad(lowPass, 15, math.Sqrt2/2, fs)}
	return b
}

// push adds the conditioned sample y.
func (b *balance) push(y float64) {
	l := b.lp[1].step(b.lp[0].step(y))
	b.low += l * l
	bp := y
	for k := range b.bp {
		bp = b.bp[k].step(bp)
	}
	b.band += bp * bp
}

// second closes a second and returns the relative low-frequency share
// (0 while no reference is known).
func (b *balance) second() float64 {
	b.secLow[b.at], b.secBand[b.at] = b.low, b.band
	b.secOK[b.at] = false
	b.low, b.band = 0, 0
	b.at = (b.at + 1) % balHist
	b.n = min(b.n+1, balHist)
	if b.n < balWindow || b.refN < balMinRef {
		return 0
	}
	var lo, bd float64
	for k := 1; k <= balWindow; k++ {
		j := (b.at - k + balHist) % balHist
		lo += b.secLow[j]
		bd += b.secBand[j]
	}
	if lo+bd == 0 || b.refLow+b.refBand == 0 {
		return 0
	}
	if (lo+bd)/float64(balWindow) < balMinPower*(b.refLow+b.refBand) {
		// Too little signal to judge: a flat line, a pause or a
		// standstill (which has its own alarms), not an artefact. The tail
		// of the last T wave alone would look like low-frequency power.
		return 0
	}
	return (lo / (lo + bd)) / (b.refLow / (b.refLow + b.refBand))
}

// judged tells the balance how the second just closed was judged: ok when
// the gate is open and its quality passed. A second enters the reference
// once it and the balLag seconds after it were ok.
func (b *balance) judged(ok bool) {
	last := (b.at - 1 + balHist) % balHist
	b.secOK[last] = ok
	if !ok {
		b.closedRun++
	} else {
		b.closedRun = 0
	}
	if b.closedRun > balStuck {
		// A lasting change of the signal, not an episode of noise: learn it,
		// slowly.
		b.admit(last, balSlow)
		return
	}
	if b.n <= balLag {
		return
	}
	for k := 0; k <= balLag; k++ {
		if !b.secOK[(last-k+balHist)%balHist] {
			return
		}
	}
	b.admit((last-balLag+balHist)%balHist, balRef)
}

func (b *balance) admit(j, tau int) {
	w := 1 / float64(min(b.refN+1, tau))
	b.refLow += w * (b.secLow[j] - b.refLow)
	b.refBand += w * (b.secBand[j] - b.refBand)
	b.refN++
}
