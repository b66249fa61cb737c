// Command ecg is the EC57 accuracy bench of the real-time QRS detector: it
// runs edge/ecg over the shared MIT-BIH records and the NST 118e* records,
// prints TP FN FP Se +P per record and gross, and exits 1 if the shared
// MIT-BIH gross Se or +P is below 99.7 %.
//
//	go run ./bench/ecg [-data ../shared/data] [-skip 0]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"medagent/edge/ec57"
	"medagent/edge/replay"
	"medagent/wfdb"
)

const floor = 0.997

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench/ecg:", err)
		os.Exit(1)
	}
}

type row struct {
	res         ec57.Result
	late, total int
	maxLate     float64
}

func run(out io.Writer, args []string) error {
	fs := flag.NewFlagSet("bench/ecg", flag.ContinueOnError)
	data := fs.String("data", filepath.Join("..", "shared", "data"), "shared data directory")
	only := fs.String("records", "", "comma-separated mitdb records (default: all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	recs, err := filepath.Glob(filepath.Join(*data, "mitdb", "*.hea"))
	if err != nil || len(recs) == 0 {
		return fmt.Errorf("no MIT-BIH records in %s (want ../shared/data/mitdb)", *data)
	}
	sort.Strings(recs)
	var mit []string
	for _, r := range recs {
		name := strings.TrimSuffix(filepath.Base(r), ".hea")
		if *only == "" || strings.Contains(","+*only+",", ","+name+",") {
			mit = append(mit, strings.TrimSuffix(r, ".hea"))
		}
	}
	var nst []string
	if *only == "" {
		for _, r := range []string{"118e00", "118e12", "118e24"} {
			nst = append(nst, filepath.Join(*data, "nstdb", r))
		}
	}
	var failed bool
	for _, skip := range []float64{0, 300} {
		fmt.Fprintf(out, "\n== EC57 beat-by-beat, match window 150 ms, VF excluded, first %v s excluded ==\n", skip)
		fmt.Fprintf(out, "%-8s %6s %5s %5s %8s %8s %6s %8s\n", "record", "TP", "FN", "FP", "Se%", "+P%", "late", "maxlat_s")
		mitRes, err := table(out, mit, skip)
		if err != nil {
			return err
		}
		g := ec57.Sum("gross", mitRes...)
		fmt.Fprintf(out, "%-8s %6d %5d %5d %8.3f %8.3f\n", "MITgross", g.TP, g.FN, g.FP, 100*g.Se(), 100*g.PPV())
		if len(nst) > 0 {
			nres, err := table(out, nst, skip)
			if err != nil {
				return err
			}
			n := ec57.Sum("nst", nres...)
			fmt.Fprintf(out, "%-8s %6d %5d %5d %8.3f %8.3f\n", "NSTgross", n.TP, n.FN, n.FP, 100*n.Se(), 100*n.PPV())
		}
		if skip == 0 && (g.Se() < floor || g.PPV() < floor) {
			failed = true
		}
	}
	if failed {
		return fmt.Errorf("MIT-BIH gross Se or +P below %.1f %% (whole-record scoring)", 100*floor)
	}
	return nil
}

func table(out io.Writer, recs []string, skip float64) ([]ec57.Result, error) {
	var res []ec57.Result
	for _, path := range recs {
		beats, h, err := replay.Beats(context.Background(), path, replay.AutoChannel)
		if err != nil {
			return nil, err
		}
		annPath := path + ".atr"
		if strings.Contains(filepath.Base(path), "118e") {
			annPath = filepath.Join(filepath.Dir(path), filepath.Base(path)+".atr")
		}
		anns, err := wfdb.ReadAnnotationFile(annPath)
		if err != nil {
			return nil, err
		}
		ref, excl := ec57.Reference(anns)
		det := make([]int64, len(beats))
		late, maxLate := 0, 0.0
		for i, b := range beats {
			det[i] = b.Index
			lat := float64(b.Reported-b.Index) / h.Freq
			if lat > 0.300 {
				late++
			}
			maxLate = max(maxLate, lat)
		}
		r := ec57.Compare(h.Record, ref, det, excl, ec57.Options{Rate: h.Freq, Skip: skip})
		fmt.Fprintf(out, "%-8s %6d %5d %5d %8.3f %8.3f %6d %8.3f\n", h.Record, r.TP, r.FN, r.FP, 100*r.Se(), 100*r.PPV(), late, maxLate)
		res = append(res, r)
	}
	return res, nil
}
