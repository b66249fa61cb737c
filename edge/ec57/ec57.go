package ec57

import (
	"cmp"
	"slices"
	"strings"

	"medagent/wfdb"
)

// Options configures a comparison.
type Options struct {
	Rate   float64 // samples per second of both annotation streams
	Window float64 // match window in seconds; 0 means 0.150
	Skip   float64 // seconds at the start excluded from scoring (EC57 allows 300)
}

// Result is the beat-by-beat outcome for one record (or a sum).
type Result struct {
	Record     string
	TP, FN, FP int
}

// Se is the sensitivity TP/(TP+FN), 1 when there are no reference beats.
func (r Result) Se() float64 { return ratio(r.TP, r.TP+r.FN) }

// PPV is the positive predictivity TP/(TP+FP), 1 when nothing was detected.
func (r Result) PPV() float64 { return ratio(r.TP, r.TP+r.FP) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Sum adds results into a gross total.
func Sum(name string, rs ...Result) Result {
	t := Result{Record: name}
	for _, r := range rs {
		t.TP += r.TP
		t.FN += r.FN
		t.FP += r.FP
	}
	return t
}

// IsBeat reports whether an annotation mnemonic is a beat label.
func IsBeat(mnemonic string) bool {
	return len(mnemonic) == 1 && strings.Contains("NLRBAaJSVrFejnE/fQ?", mnemonic)
}

// Interval is a half-open sample range [From, To).
type Interval struct{ From, To int64 }

// Reference extracts the reference beat times and the excluded
// (ventricular flutter/fibrillation) intervals from annotations. An episode
// still open at the end of the annotations extends to the end of time.
func Reference(anns []wfdb.Annotation) (beats []int64, excluded []Interval) {
	const open = -1
	vfl, bracket := int64(open), int64(open)
	end := func(from, to int64) {
		if to > from {
			excluded = append(excluded, Interval{from, to})
		}
	}
	for _, a := range anns {
		m := a.Mnemonic()
		switch {
		case IsBeat(m):
			beats = append(beats, a.Sample)
		case m == "+":
			isVF := strings.HasPrefix(a.Aux, "(VF")
			if vfl != open && !isVF {
				end(vfl, a.Sample)
				vfl = open
			} else if vfl == open && isVF {
				vfl = a.Sample
			}
		case m == "[":
			if bracket == open {
				bracket = a.Sample
			}
		case m == "]":
			if bracket != open {
				end(bracket, a.Sample+1)
				bracket = open
			}
		}
	}
	const forever = int64(1) << 62
	if vfl != open {
		end(vfl, forever)
	}
	if bracket != open {
		end(bracket, forever)
	}
	slices.SortFunc(excluded, func(a, b Interval) int { return cmp.Compare(a.From, b.From) })
	return beats, excluded
}

func inAny(t int64, iv []Interval) bool {
	for _, x := range iv {
		if t >= x.From && t < x.To {
			return true
		}
	}
	return false
}

// Compare matches detections against reference beats. Both slices hold
// sample numbers; they need not be sorted.
func Compare(name string, ref, det []int64, excluded []Interval, o Options) Result {
	w := o.Window
	if w == 0 {
		w = 0.150
	}
	win := int64(w * o.Rate)
	skip := int64(o.Skip * o.Rate)
	keep := func(in []int64) []int64 {
		var out []int64
		for _, t := range in {
			if t >= skip && !inAny(t, excluded) {
				out = append(out, t)
			}
		}
		slices.Sort(out)
		return out
	}
	r, d := keep(ref), keep(det)
	// Both lists are sorted and every reference beat's window has the same
	// width, so matching each reference beat, in time order, with the
	// earliest unmatched detection inside its window yields a maximum
	// matching (the classic interval-scheduling argument).
	res := Result{Record: name}
	j := 0
	for _, t := range r {
		for j < len(d) && d[j] < t-win {
			j++
		}
		if j < len(d) && d[j] <= t+win {
			res.TP++
			j++
		}
	}
	res.FN = len(r) - res.TP
	res.FP = len(d) - res.TP
	return res
}
