package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"medagent/edge/alarm"
	"medagent/edge/ec57"
	"medagent/edge/replay"
	"medagent/wfdb"
)

// record is one lead of a WFDB record with its reference beats.
type record struct {
	name string
	rate float64
	x    []float64
	ok   []bool
	ref  []int64 // reference beat samples (none for noise records)
	// from is where an excerpt starts in its source record, seconds (from
	// the header comment devtools/excerpt writes; 0 for a whole record).
	from float64
}

// load reads the MLII lead (else signal 0) of the record at path and, when
// it has them, its reference beats.
func load(path string) (*record, error) {
	rec, err := wfdb.OpenRecord(path)
	if err != nil {
		return nil, err
	}
	h := rec.Header
	ch, err := replay.SelectChannel(h, replay.AutoChannel)
	if err != nil {
		return nil, err
	}
	fr, err := rec.Frames()
	if err != nil {
		return nil, err
	}
	defer fr.Close()
	r := &record{name: h.Record, rate: h.Freq}
	for _, c := range h.Comments {
		if m := excerptFrom.FindStringSubmatch(c); m != nil {
			r.from, _ = strconv.ParseFloat(m[1], 64)
		}
	}
	v, ok := make([]int, len(h.Signals)), make([]bool, len(h.Signals))
	for {
		err := fr.ReadFrame(v, ok)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		r.x = append(r.x, h.Signals[ch].Physical(v[ch]))
		r.ok = append(r.ok, ok[ch])
	}
	if anns, err := wfdb.ReadAnnotationFile(path + ".atr"); err == nil {
		r.ref, _ = ec57.Reference(anns)
	}
	return r, nil
}

var excerptFrom = regexp.MustCompile(`^excerpt of .* s from (\d+) s\)`)

// second is one line of replay --vitals output.
type second struct {
	t      int
	hr, q  float64
	alarms []event
}

// event is one alarm transition: "hr" or "tech-ecg", raised or cleared,
// priority, condition.
type event struct {
	stream, what, prio, cond string
}

func (e event) physiological() bool { return !strings.HasPrefix(e.stream, "tech-") }

// vitals runs x through replay's vitals path and parses its lines, as a
// user of `medagent replay --vitals` would.
func vitals(x []float64, ok []bool, rate float64, cfg alarm.Config) ([]second, error) {
	i := 0
	src := func() (float64, bool, error) {
		if i == len(x) {
			return 0, false, io.EOF
		}
		i++
		return x[i-1], ok == nil || ok[i-1], nil
	}
	var out bytes.Buffer
	if err := replay.VitalsLines(context.Background(), &out, src, rate, 0, cfg); err != nil {
		return nil, err
	}
	return parse(out.String())
}

func parse(s string) ([]second, error) {
	var secs []second
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 {
			return nil, fmt.Errorf("line %q: want SECOND HR QUALITY", line)
		}
		t, err1 := strconv.Atoi(f[0])
		hr, err2 := strconv.ParseFloat(f[1], 64)
		q, err3 := strconv.ParseFloat(f[2], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("line %q: bad number", line)
		}
		sc := second{t: t, hr: hr, q: q}
		for _, a := range f[3:] {
			p := strings.Split(strings.TrimPrefix(a, "alarm="), ":")
			if len(p) != 4 {
				return nil, fmt.Errorf("line %q: bad alarm column %q", line, a)
			}
			sc.alarms = append(sc.alarms, event{p[0], p[1], p[2], p[3]})
		}
		secs = append(secs, sc)
	}
	return secs, nil
}

// refHR is the reference heart rate at second t: the mean of the last 12
// reference R-R intervals ending before t (0 without enough beats).
func (r *record) refHR(t float64) float64 {
	end := int64(t * r.rate)
	k := 0
	for k < len(r.ref) && r.ref[k] <= end {
		k++
	}
	n := min(12, k-1)
	if n < 4 {
		return 0
	}
	return 60 * r.rate * float64(n) / float64(r.ref[k-1]-r.ref[k-1-n])
}

// lastRefBefore is the time of the last reference beat before t (or -1).
func (r *record) lastRefBefore(t float64) float64 {
	last := -1.0
	for _, b := range r.ref {
		if float64(b)/r.rate >= t {
			break
		}
		last = float64(b) / r.rate
	}
	return last
}

// save writes x as the one-signal WFDB record name into b.write (format
// 16, 1000 units per mV), with the reference beats of r, when -write is
// set.
func (b *bench) save(name string, r *record, x []float64) error {
	if b.write == "" {
		return nil
	}
	raw := make([]int, len(x))
	for i, v := range x {
		raw[i] = max(-32767, min(32767, int(math.Round(v*1000))))
		if r.ok != nil && !r.ok[i] {
			raw[i] = wfdb.Invalid16
		}
	}
	h := &wfdb.Header{Record: name, Freq: r.rate, Comments: []string{"spliced by bench/alarms from " + r.name},
		Signals: []wfdb.Signal{{Format: wfdb.Format16, Gain: 1000, ADCRes: 16, Description: "MLII"}}}
	if err := wfdb.WriteRecord(b.write, h, [][]int{raw}); err != nil {
		return err
	}
	anns := make([]wfdb.Annotation, len(r.ref))
	for i, s := range r.ref {
		anns[i] = wfdb.Annotation{Sample: s, Code: 1} // N: the times are what the bench uses
	}
	return wfdb.WriteAnnotationFile(filepath.Join(b.write, name+".atr"), anns)
}
