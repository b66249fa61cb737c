// Command ecg is the EC57 accuracy bench of the real-time QRS detector: it
// runs edge/ecg over the MIT-BIH records of a directory and the NST 118e*
// records (scored against record 118's reference annotations, which the
// 118e* .atr files carry), prints TP FN FP Se +P per record and gross, and
// exits 1 if the MIT-BIH gross Se or +P is below -floor (99.7 %) with the
// whole record scored.
//
//	go run ./bench/ecg [-mitdb ../shared/data/mitdb] [-nstdb ../shared/data/nstdb]
//	    [-records 101,108] [-rate 250] [-channel 1] [-floor 99.7]
//
// The full databases are not in the repository (PhysioNet: mitdb and
// nstdb, ODC-By); testdata/physionet carries excerpts, which the test of
// this command uses.
// -rate resamples the records (linear interpolation) before detection to
// check that nothing depends on 360 Hz; beats are mapped back to the
// record's sample numbers for scoring.
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"medagent/edge/ec57"
	"medagent/edge/ecg"
	"medagent/edge/replay"
	"medagent/wfdb"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench/ecg:", err)
		os.Exit(1)
	}
}

// detection is one record's detector output, mapped to record samples.
type detection struct {
	name       string
	rate       float64
	det        []int64
	ref        []int64
	excl       []ec57.Interval
	searchback int
	maxLatency float64        // seconds, over beats that are neither learning nor searchback
	maxSB      float64        // seconds, over searchback beats
	pvc        map[int64]bool // reference premature ventricular beats
}

func run(out io.Writer, args []string) error {
	fs := flag.NewFlagSet("bench/ecg", flag.ContinueOnError)
	mitdb := fs.String("mitdb", filepath.Join("..", "shared", "data", "mitdb"), "directory of MIT-BIH Arrhythmia Database records")
	nstdb := fs.String("nstdb", filepath.Join("..", "shared", "data", "nstdb"), "directory of Noise Stress Test records 118e* (optional)")
	only := fs.String("records", "", "comma-separated mitdb records (default: all, plus the nstdb 118e* records)")
	floorPct := fs.Float64("floor", 99.7, "exit 1 if the MIT-BIH gross Se or +P (whole records) is below this `percent`")
	rate := fs.Float64("rate", 0, "resample to this rate in Hz before detection (0: the record's own)")
	channel := fs.Int("channel", replay.AutoChannel, "signal index to use (default: MLII if named, else 0)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	floor := *floorPct / 100
	recs, err := filepath.Glob(filepath.Join(*mitdb, "*.hea"))
	if err != nil || len(recs) == 0 {
		return fmt.Errorf("no MIT-BIH records in %s: get the MIT-BIH Arrhythmia Database from https://physionet.org/content/mitdb/ and give its directory with -mitdb (make bench-ecg MITDB=DIR)", *mitdb)
	}
	sort.Strings(recs)
	var mit, nst []*detection
	for _, r := range recs {
		name := strings.TrimSuffix(filepath.Base(r), ".hea")
		if *only != "" && !strings.Contains(","+*only+",", ","+name+",") {
			continue
		}
		d, err := detect(strings.TrimSuffix(r, ".hea"), *channel, *rate)
		if err != nil {
			return err
		}
		mit = append(mit, d)
	}
	if *only == "" {
		nrecs, _ := filepath.Glob(filepath.Join(*nstdb, "*118e*.hea"))
		sort.Strings(nrecs)
		if len(nrecs) == 0 {
			fmt.Fprintf(out, "no noise stress records 118e* in %s: NST rows left out\n", *nstdb)
		}
		for _, r := range nrecs {
			d, err := detect(strings.TrimSuffix(r, ".hea"), *channel, *rate)
			if err != nil {
				return err
			}
			nst = append(nst, d)
		}
	}
	if *rate != 0 {
		fmt.Fprintf(out, "detector run at %v Hz (records resampled)\n", *rate)
	}
	var failed bool
	for _, skip := range []float64{0, 300} {
		fmt.Fprintf(out, "\n== EC57 beat-by-beat, match window 150 ms, VF excluded, first %v s excluded ==\n", skip)
		fmt.Fprintf(out, "%-8s %6s %5s %5s %8s %8s %5s %8s %8s\n", "record", "TP", "FN", "FP", "Se%", "+P%", "sb", "lat_max", "sb_lat")
		g := table(out, mit, skip)
		fmt.Fprintf(out, "%-8s %6d %5d %5d %8.3f %8.3f\n", "MITgross", g.TP, g.FN, g.FP, 100*g.Se(), 100*g.PPV())
		if len(nst) > 0 {
			n := table(out, nst, skip)
			fmt.Fprintf(out, "%-8s %6d %5d %5d %8.3f %8.3f\n", "NSTgross", n.TP, n.FN, n.FP, 100*n.Se(), 100*n.PPV())
		}
		if skip == 0 && (g.Se() < floor || g.PPV() < floor) {
			failed = true
		}
	}
	earlyTable(out, mit)
	if failed {
		return fmt.Errorf("MIT-BIH gross Se or +P below %g %% (whole-record scoring)", *floorPct)
	}
	return nil
}

func table(out io.Writer, ds []*detection, skip float64) ec57.Result {
	var res []ec57.Result
	for _, d := range ds {
		r := ec57.Compare(d.name, d.ref, d.det, d.excl, ec57.Options{Rate: d.rate, Skip: skip})
		fmt.Fprintf(out, "%-8s %6d %5d %5d %8.3f %8.3f %5d %8.3f %8.3f\n", d.name, r.TP, r.FN, r.FP, 100*r.Se(), 100*r.PPV(), d.searchback, d.maxLatency, d.maxSB)
		res = append(res, r)
	}
	return ec57.Sum("gross", res...)
}

// detect runs the detector over one signal of the record (AutoChannel: MLII
// if named, else the first).
func detect(path string, channel int, rate float64) (*detection, error) {
	rec, err := wfdb.OpenRecord(path)
	if err != nil {
		return nil, err
	}
	h := rec.Header
	ch, err := replay.SelectChannel(h, channel)
	if err != nil {
		return nil, err
	}
	x, ok, err := load(rec, ch)
	if err != nil {
		return nil, err
	}
	if rate == 0 {
		rate = h.Freq
	}
	x, ok = resample(x, ok, h.Freq, rate)
	det, err := ecg.NewDetector(ecg.Options{Rate: rate})
	if err != nil {
		return nil, err
	}
	d := &detection{name: h.Record, rate: h.Freq}
	scale := h.Freq / rate
	for i := range x {
		b, got := det.Push(x[i], ok[i])
		if !got {
			continue
		}
		d.det = append(d.det, int64(math.Round(float64(b.Index)*scale)))
		lat := float64(b.Reported-b.Index) / rate
		switch {
		case b.Searchback:
			d.searchback++
			d.maxSB = max(d.maxSB, lat)
		case !b.Learning:
			d.maxLatency = max(d.maxLatency, lat)
		}
	}
	anns, err := wfdb.ReadAnnotationFile(path + ".atr")
	if err != nil {
		return nil, err
	}
	d.ref, d.excl = ec57.Reference(anns)
	d.pvc = pvcBeats(anns)
	return d, nil
}

func load(rec *wfdb.Record, ch int) ([]float64, []bool, error) {
	fr, err := rec.Frames()
	if err != nil {
		return nil, nil, err
	}
	defer fr.Close()
	h := rec.Header
	v, valid := make([]int, len(h.Signals)), make([]bool, len(h.Signals))
	var x []float64
	var ok []bool
	for {
		err := fr.ReadFrame(v, valid)
		if err == io.EOF {
			return x, ok, nil
		}
		if err != nil {
			return nil, nil, err
		}
		x = append(x, h.Signals[ch].Physical(v[ch]))
		ok = append(ok, valid[ch])
	}
}

// resample converts x from rate from to rate to by linear interpolation; a
// new sample is invalid if either neighbour is.
func resample(x []float64, ok []bool, from, to float64) ([]float64, []bool) {
	if from == to || len(x) < 2 {
		return x, ok
	}
	n := int(float64(len(x)-1) * to / from)
	y, yok := make([]float64, n), make([]bool, n)
	for i := range y {
		t := float64(i) * from / to
		k := int(t)
		f := t - float64(k)
		y[i] = x[k]*(1-f) + x[k+1]*f
		yok[i] = ok[k] && ok[k+1]
	}
	return y, yok
}
