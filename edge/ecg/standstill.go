package ecg

import "math"

// Cardiac standstill is told from noise by what the lead showed since the
// last QRS complex, not by its last seconds alone. The conditioned signal
// is cut into blocks of flatBlock seconds; a block is flat when its RMS is
// at most FlatRMS (a flat line or low-level noise). A block that is not
// flat is loud, unless it lies within qrstAllowance after a QRS complex
// found on a clean signal (that beat's own QRS and T wave).
//
// Asystole is declared when no credible QRS complex has been found for
// the asystole delay and the lead is flat now (for flatMin), provided the
// time since the last clean QRS complex held at most loudMax of loud
// signal. When it held more (a noise or artefact episode, whose beats, if
// any, were found while the quality gate was closed), the lead must be
// flat to flatAfterNoise for standstillAfterNoise before asystole is declared: bursty noise
// such as muscle artefact has quiet stretches of several seconds (up to
// 13 s under 0.1 mV RMS in the Noise Stress Test's "ma" record scaled to
// 0.6 mV RMS), which are not a standstill, while a standstill that follows
// an artefact is still alarmed, standstillAfterNoise after the artefact
// ended. Once declared, asystole lasts until a credible QRS complex (or a
// restart of the detector after the lead was off).
//
// The pause alarm uses the same evidence: an R-R interval (or the time
// since the last beat) that held more than loudMax of loud signal is not a
// measured interval and is not reported as a pause.
const (
	flatBlock     = 0.25 // s
	qrstAllowance = 0.6  // s after a clean QRS complex: its QRS and T wave
	loudMax       = 1.0  // s of loud signal since the last clean QRS that still is a standstill
	flatMin       = 1.0  // s the lead must be flat when asystole is declared
	// standstillAfterNoise is how long the lead must be flat after loud
	// noise before it is a standstill: asystole is declared about 8 s
	// after the noise ends (8.0 s at most in TestStandstillAfterNoiseWithin8s;
	// 8.7 s with the 8.5 s used before), while a quiet stretch of 7 s
	// between bursts, followed by the next beat, is not one (7.25 s is too
	// short for that: TestBurstyNoiseIsNotAsystole).
	standstillAfterNoise = 7.75 // s
	flatHistory          = 64   // blocks kept (16 s) to re-judge blocks after a late beat
	// flatAfterNoise is the RMS a block may have to count as flat after
	// loud noise: the quiet stretches of muscle artefact reach 0.16 mV,
	// a standstill with the low-level noise (0.1 mV RMS) stays
	// under it.
	flatAfterNoise = 0.13 // mV
)

type flatBlockRec struct {
	start int64
	flat  bool
}

// standstill tracks flat blocks and loud signal since the last clean QRS.
type standstill struct {
	blk                 int64 // samples per block
	allow, loudMax      int64 // in samples
	flatMin, afterNoise int64
	sum                 float64
	n                   int64 // samples in the current block
	valid               int64 // valid samples in the current block
	hist                [flatHistory]flatBlockRec
	nh, at              int
	flatRun             int64 // samples of flat blocks up to the last block end
	quietRun            int64 // samples of blocks under flatAfterNoise up to the last block end
	loud                int64 // samples of loud blocks since the last clean QRS
	lastClean           int64
	haveClean           bool
	on                  bool // asystole declared
}

func newStandstill(fs float64) standstill {
	s := func(v float64) int64 { return int64(math.Round(v * fs)) }
	return standstill{blk: max(1, s(flatBlock)), allow: s(qrstAllowance), loudMax: s(loudMax),
		flatMin: s(flatMin), afterNoise: s(standstillAfterNoise)}
}

// reset forgets everything: the detector restarted after the lead was off.
func (s *standstill) reset() {
	s.sum, s.n, s.valid = 0, 0, 0
	s.nh, s.at = 0, 0
	s.flatRun, s.quietRun, s.loud = 0, 0, 0
	s.haveClean, s.on = false, false
}

// push adds the conditioned sample y at sample i. A block is judged on
// its valid samples: lost samples (bridged by the detector) neither make
// a flat lead loud nor a loud one flat. A block with fewer than half of
// its samples valid is neither flat nor loud.
func (s *standstill) push(i int64, y float64, ok bool) {
	if ok {
		s.sum += y * y
		s.valid++
	}
	s.n++
	if s.n < s.blk {
		return
	}
	known := 2*s.valid >= s.blk
	rms := 0.0
	if known {
		rms = math.Sqrt(s.sum / float64(s.valid))
	}
	b := flatBlockRec{start: i - s.blk + 1, flat: known && rms <= FlatRMS}
	if known && rms <= flatAfterNoise {
		s.quietRun += s.blk
	} else {
		s.quietRun = 0
	}
	s.sum, s.n, s.valid = 0, 0, 0
	s.hist[s.at] = b
	s.at = (s.at + 1) % flatHistory
	s.nh = min(s.nh+1, flatHistory)
	if b.flat {
		s.flatRun += s.blk
		return
	}
	s.flatRun = 0
	if known && !s.excused(b.start) {
		s.loud += s.blk
	}
}

func (s *standstill) excused(start int64) bool {
	return s.haveClean && start < s.lastClean+s.allow
}

// cleanBeat notes a credible QRS complex at r found while the signal was
// clean: the loud signal is counted again from the end of its allowance.
func (s *standstill) cleanBeat(r int64) {
	if s.haveClean && r <= s.lastClean {
		return
	}
	s.lastClean, s.haveClean = r, true
	s.loud = 0
	for k := 0; k < s.nh; k++ {
		b := s.hist[(s.at-1-k+2*flatHistory)%flatHistory]
		if b.start+s.blk <= r {
			break
		}
		if !b.flat && !s.excused(b.start) {
			s.loud += s.blk
		}
	}
}

// noisy tells whether the time since the last clean QRS held loud signal
// beyond loudMax.
func (s *standstill) noisy() bool { return s.loud > s.loudMax }

// check declares asystole when the time without a credible QRS complex,
// gap, has reached the delay asy on a lead flat long enough.
func (s *standstill) check(gap, asy int64) bool {
	if s.on {
		return true
	}
	if s.noisy() {
		s.on = gap >= asy && s.quietRun >= s.afterNoise
	} else {
		s.on = gap >= asy && s.flatRun >= s.flatMin
	}
	return s.on
}

// flat tells whether the lead has been flat for flatMin.
func (s *standstill) flat() bool { return s.flatRun >= s.flatMin }
