package ecg

import "math"

// The beat library: the shapes of QRS complexes the patient has shown on a
// clean signal. A beat the detector finds in noise, or in electrode
// motion that has taken the place of the ECG, rarely resembles any of
// them, while every beat of a real rhythm does, or repeats a new shape of
// its own (a run of ventricular beats, a changed conduction).
//
// Each detected beat is cut from the conditioned signal, libPre before to
// libPost after its R peak, and compared (correlation, with the QRS
// amplitude within a factor libAmp) with the libSize shapes held: it is
// known when one correlates by libCorr or more, and it repeats when it
// correlates so with two of the last libRecent beats. Shapes are learned
// from beats on a clean signal only, libWait seconds after they were seen
// when the signal stayed clean (so the first beats of an artefact are not
// learned before the quality gate has closed); a shape that repeats while
// the low-frequency share (balance.go) is the patient's own is learned at
// once, so a new rhythm is known within a few beats. The shape used least
// recently makes room for a new one.
const (
	libSize   = 12
	libRecent = 6
	libCorr   = 0.9
	libAmp    = 2.0
	libWait   = 4    // s
	libAvg    = 8    // beats averaged into a known shape
	libPre    = 0.08 // s
	libPost   = 0.2  // s
)

type libShape struct {
	w    []float64
	amp  float64
	n    int   // beats averaged, up to libAvg
	used int64 // R of the last beat that matched
}

type libBeat struct {
	w   []float64
	amp float64
	r   int64
	ok  bool
}

type library struct {
	pre, post int64
	shapes    [libSize]libShape
	ns        int
	recent    [libRecent]libBeat // the last beats, for repeats
	at        int
	pending   [libRecent]libBeat // unknown beats waiting to be learned
	np        int
	cur       []float64
}

func newLibrary(fs float64) library {
	l := library{pre: int64(math.Round(libPre * fs)), post: int64(math.Round(libPost * fs))}
	n := l.pre + l.post + 1
	l.cur = make([]float64, n)
	for i := range l.shapes {
		l.shapes[i].w = make([]float64, n)
	}
	for i := range l.recent {
		l.recent[i].w = make([]float64, n)
		l.pending[i].w = make([]float64, n)
	}
	return l
}

// ready tells whether shapes are known to compare with.
func (l *library) ready() bool { return l.ns >= 2 }

// verdict is what the library says of a beat.
type verdict struct {
	seen    bool // the beat's samples were at hand
	known   bool // it resembles a learned shape
	repeats bool // it resembles two of the last beats
}

// beat judges the beat at r (signal y, newest sample now) and learns from
// it: at once when clean (a clean signal, gate open) and known (the shape
// is refined), or when it repeats on a signal whose low-frequency share is
// the patient's own (balanced); otherwise an unknown beat of a clean
// signal waits libWait seconds.
func (l *library) beat(y *ring, r, now int64, amp float64, clean, balanced bool) verdict {
	if r+l.post > now || now-(r-l.pre) >= y.size() {
		return verdict{}
	}
	mean := 0.0
	for k := range l.cur {
		l.cur[k] = y.at(r - l.pre + int64(k))
		mean += l.cur[k]
	}
	mean /= float64(len(l.cur))
	for k := range l.cur {
		l.cur[k] -= mean
	}
	v := verdict{seen: true}
	best, bi := -1.0, -1
	for i := 0; i < l.ns; i++ {
		s := &l.shapes[i]
		if !similarAmp(amp, s.amp) {
			continue
		}
		if c := corr(l.cur, s.w); c > best {
			best, bi = c, i
		}
	}
	v.known = bi >= 0 && best >= libCorr
	hits := 0
	for i := range l.recent {
		b := &l.recent[i]
		if b.ok && similarAmp(amp, b.amp) && corr(l.cur, b.w) >= libCorr {
			hits++
		}
	}
	v.repeats = hits >= 2
	// Keep this beat among the recent ones.
	rb := &l.recent[l.at]
	copy(rb.w, l.cur)
	rb.amp, rb.r, rb.ok = amp, r, true
	l.at = (l.at + 1) % libRecent

	switch {
	case v.known:
		s := &l.shapes[bi]
		s.used = r
		if clean {
			s.n = min(s.n+1, libAvg)
			a := 1 / float64(s.n)
			for k := range s.w {
				s.w[k] += a * (l.cur[k] - s.w[k])
			}
			s.amp += a * (amp - s.amp)
		}
	case v.repeats && balanced:
		l.learn(l.cur, amp, r)
	case clean && l.np < len(l.pending):
		p := &l.pending[l.np]
		copy(p.w, l.cur)
		p.amp, p.r, p.ok = amp, r, true
		l.np++
	}
	return v
}

// second is called once a second with whether the signal has been clean
// (and the gate open) for the last libWait seconds: pending shapes that
// waited so long are learned; when it was not clean they are dropped.
func (l *library) second(now int64, rate float64, clean bool) {
	if !clean {
		l.np = 0
		return
	}
	k := 0
	for i := 0; i < l.np; i++ {
		p := &l.pending[i]
		if now-p.r >= int64(libWait*rate) {
			l.learn(p.w, p.amp, p.r)
			continue
		}
		l.pending[k], l.pending[i] = l.pending[i], l.pending[k] // keep w buffers distinct
		k++
	}
	l.np = k
}

// learn adds a shape in place of the one used least recently.
func (l *library) learn(w []float64, amp float64, r int64) {
	i := l.ns
	if l.ns == libSize {
		i = 0
		for j := 1; j < libSize; j++ {
			if l.shapes[j].used < l.shapes[i].used {
				i = j
			}
		}
	} else {
		l.ns++
	}
	s := &l.shapes[i]
	copy(s.w, w)
	s.amp, s.n, s.used = amp, 1, r
}

func similarAmp(a, b float64) bool {
	if a <= 0 || b <= 0 {
		return false
	}
	return a <= libAmp*b && b <= libAmp*a
}

// corr is the correlation coefficient of two zero-mean-ish vectors.
func corr(a, b []float64) float64 {
	var ab, aa, bb float64
	ma, mb := 0.0, 0.0
	for k := range a {
		ma += a[k]
		mb += b[k]
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	for k := range a {
		x, y := a[k]-ma, b[k]-mb
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}
