package main

import (
	"fmt"
	"io"
	"sort"

	"medagent/wfdb"
)

// Early premature ventricular beats come while the T wave of the beat
// before is due, where a detector must tell them from T waves. The bench
// counts, per record, the reference premature ventricular beats (V) that
// come earlyFrom..earlyTo after the reference beat before them and how
// many of those the detector missed (no detection within the match
// window), and the detections that match no reference beat and fall
// tWaveFrom..tWaveTo after a reference beat: T waves (or other late
// waves) counted as beats.
const (
	earlyFrom, earlyTo = 0.300, 0.370 // s after the previous beat
	tWaveFrom, tWaveTo = 0.200, 0.500
	matchWindow        = 0.150
)

type earlyCount struct {
	early, missed int     // early PVCs, and how many the detector missed
	missedAt      []int64 // their samples
	tWaveFP       int     // unmatched detections in the T-wave window
}

// earlyPVCs scores one record; pvc holds the reference V beats.
func earlyPVCs(d *detection, pvc map[int64]bool) earlyCount {
	var c earlyCount
	win := int64(matchWindow * d.rate)
	near := func(set []int64, at int64) bool {
		k := sort.Search(len(set), func(i int) bool { return set[i] >= at-win })
		return k < len(set) && set[k] <= at+win
	}
	for k := 1; k < len(d.ref); k++ {
		r := d.ref[k]
		if !pvc[r] || excluded(d, r) {
			continue
		}
		rr := float64(r-d.ref[k-1]) / d.rate
		if rr < earlyFrom || rr > earlyTo {
			continue
		}
		c.early++
		if !near(d.det, r) {
			c.missed++
			c.missedAt = append(c.missedAt, r)
		}
	}
	for _, x := range d.det {
		if near(d.ref, x) || excluded(d, x) {
			continue
		}
		k := sort.Search(len(d.ref), func(i int) bool { return d.ref[i] > x }) - 1
		if k < 0 {
			continue
		}
		if dt := float64(x-d.ref[k]) / d.rate; dt >= tWaveFrom && dt <= tWaveTo {
			c.tWaveFP++
		}
	}
	return c
}

func excluded(d *detection, s int64) bool {
	for _, e := range d.excl {
		if s >= e.From && s < e.To {
			return true
		}
	}
	return false
}

// pvcBeats returns the samples of the V beats of an annotation list.
func pvcBeats(anns []wfdb.Annotation) map[int64]bool {
	m := map[int64]bool{}
	for _, a := range anns {
		if a.Mnemonic() == "V" {
			m[a.Sample] = true
		}
	}
	return m
}

func earlyTable(out io.Writer, ds []*detection) {
	fmt.Fprintf(out, "\n== premature ventricular beats %.0f-%.0f ms after the previous beat (missed), unmatched detections %.0f-%.0f ms after a beat (T waves counted) ==\n",
		earlyFrom*1000, earlyTo*1000, tWaveFrom*1000, tWaveTo*1000)
	fmt.Fprintf(out, "%-8s %6s %6s %6s  %s\n", "record", "early", "missed", "T_FP", "missed at (s)")
	var t earlyCount
	for _, d := range ds {
		c := earlyPVCs(d, d.pvc)
		if c.early == 0 && c.tWaveFP == 0 {
			continue
		}
		var at []string
		for _, s := range c.missedAt {
			at = append(at, fmt.Sprintf("%.1f", float64(s)/d.rate))
		}
		fmt.Fprintf(out, "%-8s %6d %6d %6d  %v\n", d.name, c.early, c.missed, c.tWaveFP, at)
		t.early += c.early
		t.missed += c.missed
		t.tWaveFP += c.tWaveFP
	}
	fmt.Fprintf(out, "%-8s %6d %6d %6d\n", "total", t.early, t.missed, t.tWaveFP)
}
