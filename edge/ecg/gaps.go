package ecg

// Samples the acquisition could not read reach the monitor as invalid
// samples at their own time (a slot not read is an invalid sample). The
// detector bridges stretches of up to gapHold by holding the last value,
// so that a few lost samples do not restart it; but a QRS complex that
// falls in such a stretch is lost, and the interval from the beat before
// it to the beat after it is two R-R intervals, not one. So an interval
// that spans a stretch that can hide a QRS complex (hideQRS and longer;
// stretches less than joinGap apart count as one, since lost samples come
// in bursts), in it or within spanMargin of either of its beats (where the
// step at the stretch's end can be taken for a beat), is not a measured
// R-R interval: it does not enter the heart-rate average,
// and the beat that ends it carries no beat-to-beat rate. It does not
// restart the average either, as a long gap does: the intervals around it
// are still the patient's.
//
// Nor is the time without a QRS complex across a stretch that can hide
// one a measured pause: with the detector's bridging (see classify), a
// stretch of hideQRS or more centred on an R peak loses a narrow QRS
// (MIT-BIH 101: 1 of 68 such beats lost at 30 ms, 22 at 40 ms, 67 at
// 60 ms), and at a slow rate one lost beat is an interval over the pause
// limit. A lost QRS leaves its traces around the stretch, though: the
// edges of the complex, the step where the bridging ends, the T wave. So
// each such stretch is judged once quietAfter has passed: it is quiet when
// the valid signal from quietBefore before it to quietAfter after it,
// smoothed over quietSmooth, spans less than quietFrac of the patient's
// QRS amplitude. A pause is
// reported through quiet stretches and not through others. A standstill
// is alarmed whatever the stretches: asystole is judged on the valid
// samples of a flat lead, which lost samples do not interrupt
// (standstill.go, Monitor.gapAt).
const (
	spanMargin = 0.15 // s
	hideQRS    = 0.03 // s
	joinGap    = 0.01 // s
	// missedRR: an interval across shorter stretches that is this many
	// times the average is not measured either (a beat lost after all).
	missedRR    = 1.6
	quietFrac   = 0.15
	quietBefore = 0.1  // s
	quietAfter  = 0.35 // s
	quietSmooth = 0.02 // s
	// invalidRuns is how many stretches of invalid samples are kept: at
	// least those since the previous beat, up to MaxRR ago, for any loss
	// that leaves the lead connected (a lost sample in every 50 ms).
	invalidRuns = 64
)

// gapLog keeps the last stretches of invalid samples.
type gapLog struct {
	join     int64 // stretches closer than this (samples) are one
	from, to [invalidRuns]int64
	quiet    [invalidRuns]bool // judged quiet (see Monitor.judgeGap)
	judged   bool              // the newest stretch is judged
	n, at    int
}

// invalid notes that sample i is invalid.
func (g *gapLog) invalid(i int64) {
	if g.n > 0 {
		k := (g.at - 1 + invalidRuns) % invalidRuns
		if g.to[k] >= i-1-g.join {
			g.to[k] = i
			g.quiet[k], g.judged = false, false
			return
		}
	}
	g.from[g.at], g.to[g.at], g.quiet[g.at] = i, i, false
	g.judged = false
	g.at = (g.at + 1) % invalidRuns
	g.n = min(g.n+1, invalidRuns)
}

// newest returns the index of the newest stretch (n > 0).
func (g *gapLog) newest() int { return (g.at - 1 + invalidRuns) % invalidRuns }

// loud tells whether a stretch of at least minLen invalid samples that is
// not judged quiet touched a..b (true when the log does not reach back
// to a).
func (g *gapLog) loud(a, b, minLen int64) bool {
	for k := 0; k < g.n; k++ {
		j := (g.at - 1 - k + 2*invalidRuns) % invalidRuns
		if g.to[j] < a {
			return false
		}
		if g.from[j] <= b && g.to[j]-g.from[j]+1 >= minLen && !g.quiet[j] {
			return true
		}
	}
	return g.n == invalidRuns
}

// any tells whether a stretch of at least minLen invalid samples touched
// a..b. When the log no longer reaches back to a, it answers true:
// unknown is not measured.
func (g *gapLog) any(a, b, minLen int64) bool {
	for k := 0; k < g.n; k++ {
		j := (g.at - 1 - k + 2*invalidRuns) % invalidRuns
		if g.to[j] < a {
			return false
		}
		if g.from[j] <= b && g.to[j]-g.from[j]+1 >= minLen {
			return true
		}
	}
	return g.n == invalidRuns
}
