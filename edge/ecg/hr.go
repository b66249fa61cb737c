package ecg

// The heart rate average, disclosed as ANSI/AAMI EC13 (4.1.2.1 e) and
// IEC 60601-2-27 (201.7.9.2.9.101 b 3) ask:
//
//   - the heart rate is 60 divided by the mean of the last 12 R-R
//     intervals;
//   - when each of the last 3 R-R intervals is longer than 1.2 s (below
//     50 /min), it is the mean of the last 4 instead, so that a falling
//     rate is shown within seconds;
//   - it is shown once 4 intervals are known, and only intervals between
//     two beats of a clean signal count: noise, a gap in the signal or an
//     interval longer than MaxRR starts the average again;
//   - an interval that spans invalid samples (lost by the acquisition) is
//     not a measured interval and is left out (see gaps.go); so that
//     leaving intervals out does not freeze an old rate on the screen,
//     only intervals that ended within the last avgAge seconds count.
//
// The mean (not the median) of the intervals is what gives the rates of
// the irregular rhythms of EC13 (ventricular bigeminy 80 /min, slow and
// rapid alternating bigeminy 60 and 120 /min, bidirectional systoles 90
// /min), whose intervals alternate between two values.
const (
	avgRR     = 12  // intervals averaged
	avgRRSlow = 4   // intervals averaged when the rate falls
	slowRR    = 1.2 // s: intervals longer than this are "slow"
	slowRun   = 3   // this many slow intervals in a row switch to avgRRSlow
	minRR     = 4   // intervals needed before a rate is shown
	avgAge    = 20  // s: older intervals no longer count
	// MaxRR is the longest R-R interval that enters the average: a longer
	// one is a pause (its own alarm) and restarts the average.
	MaxRR = 3.0
)

// rrAverage holds the last avgRR R-R intervals, in samples, with the
// sample at which each ended.
type rrAverage struct {
	rr, end [avgRR]int64
	n       int // how many are held, up to avgRR
	at      int // where the next one goes
}

func (a *rrAverage) reset() { a.n, a.at = 0, 0 }

func (a *rrAverage) add(rr, end int64) {
	a.rr[a.at], a.end[a.at] = rr, end
	a.at = (a.at + 1) % avgRR
	a.n = min(a.n+1, avgRR)
}

// recent returns how many of the held intervals ended after sample from.
func (a *rrAverage) recent(from int64) int {
	k := 0
	for k < a.n && a.end[(a.at-1-k+2*avgRR)%avgRR] > from {
		k++
	}
	return k
}

// last returns the k-th most recent interval (k = 0 is the newest).
func (a *rrAverage) last(k int) int64 { return a.rr[(a.at-1-k+2*avgRR)%avgRR] }

// rate returns the heart rate in /min at rate fs at sample now, or 0 with
// false while fewer than minRR intervals of the last avgAge are known.
func (a *rrAverage) rate(fs float64, now int64) (float64, bool) {
	n := a.recent(now - int64(avgAge*fs))
	if n < minRR {
		return 0, false
	}
	k := n
	slow := n >= slowRun
	for i := 0; i < slowRun && slow; i++ {
		slow = float64(a.last(i)) > slowRR*fs
	}
	if slow {
		k = avgRRSlow
	}
	var sum int64
	for i := 0; i < k; i++ {
		sum += a.last(i)
	}
	return 60 * fs * float64(k) / float64(sum), true
}
