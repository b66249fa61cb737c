package ecg

import "math"

// Beat templates: a beat the detector finds in noise rarely has the shape
// of the patient's QRS complexes, while every beat of a real rhythm, even
// an irregular or ventricular one, has the shape of one of a few others.
// Two running-average templates are kept (a dominant shape and another,
// say of ventricular beats); a beat matches when its correlation with one
// of them is at least matchCorr over tplPre before to tplPost after its R
// peak. An unmatched beat starts a new template in place of the one used
// least recently, so a new rhythm is learned within two beats.
const (
	matchCorr = 0.85
	tplPre    = 0.08 // s
	tplPost   = 0.12 // s
	tplAvg    = 8    // beats in the running average
	nTemplate = 2
)

type template struct {
	w    []float64
	n    int   // beats averaged, up to tplAvg
	used int64 // R of the last beat that matched
}

type templates struct {
	pre, post int64
	t         [nTemplate]template
	cur       []float64
}

func newTemplates(fs float64) templates {
	ts := templates{pre: int64(math.Round(tplPre * fs)), post: int64(math.Round(tplPost * fs))}
	l := ts.pre + ts.post + 1
	ts.cur = make([]float64, l)
	for i := range ts.t {
		ts.t[i].w = make([]float64, l)
	}
	return ts
}

// match compares the beat at r (signal y, newest sample now) with the
// templates, updates them and reports whether it matched.
func (ts *templates) match(y *ring, r, now int64) bool {
	if r+ts.post > now || now-(r-ts.pre) >= y.size() {
		return true // not in the history: no evidence either way
	}
	mean := 0.0
	for k := range ts.cur {
		ts.cur[k] = y.at(r - ts.pre + int64(k))
		mean += ts.cur[k]
	}
	mean /= float64(len(ts.cur))
	for k := range ts.cur {
		ts.cur[k] -= mean
	}
	best, bi := -1.0, -1
	for i := range ts.t {
		if ts.t[i].n == 0 {
			continue
		}
		if c := corr(ts.cur, ts.t[i].w); c > best {
			best, bi = c, i
		}
	}
	if bi >= 0 && best >= matchCorr {
		t := &ts.t[bi]
		t.n = min(t.n+1, tplAvg)
		a := 1 / float64(t.n)
		for k := range t.w {
			t.w[k] += a * (ts.cur[k] - t.w[k])
		}
		t.used = r
		return true
	}
	// A new shape replaces the template used least recently.
	old := 0
	for i := range ts.t {
		if ts.t[i].n == 0 || ts.t[i].used < ts.t[old].used {
			old = i
			if ts.t[i].n == 0 {
				break
			}
		}
	}
	t := &ts.t[old]
	copy(t.w, ts.cur)
	t.n, t.used = 1, r
	return false
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
