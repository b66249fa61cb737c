// Command excerpt makes the PhysioNet excerpts the tests carry in
// testdata/physionet from the full databases (by default ../shared/data):
//
//	go run ./devtools/excerpt [-src ../shared/data] [-dst testdata/physionet]
//
// Each excerpt is a WFDB record x_NAME holding a stretch of record NAME in
// its own storage format, with the reference annotations of that stretch
// (shifted to start at 0, with the rhythm and any open ventricular flutter
// episode carried over to sample 0) and a header comment naming the source
// and the sample range. The full annotation files of the MIT-BIH records
// are copied as they are (mitdb/atr), the BIDMC signals gzipped. The list
// below is the whole definition of the test data: rerunning the command
// gives the same bytes.
package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"medagent/wfdb"
)

// excerpt is a stretch [Start, Start+Seconds) of a record, in seconds.
type excerpt struct {
	db, rec        string
	start, seconds int
	why            string
}

// excerpts are what the tests need; see testdata/physionet/README.md.
var excerpts = []excerpt{
	{"mitdb", "101", 0, 300, "clean sinus rhythm (replay, vitals, detector floor, splicing)"},
	{"mitdb", "114", 0, 120, "MLII is signal 1 (channel selection)"},
	{"mitdb", "207", 0, 100, "ventricular tachycardia and flutter at 38-63 s (heart-rate alarms)"},
	{"mitdb", "108", 300, 180, "tall P waves, noise, first-degree block (detector floor)"},
	{"mitdb", "203", 300, 180, "atrial fibrillation with multiform PVCs and noise (detector floor)"},
	{"mitdb", "208", 300, 180, "frequent PVCs and couplets (detector floor, early PVCs)"},
	{"mitdb", "118", 300, 60, "the clean record under nstdb 118e00: their difference from 300 s is the electrode motion (noise splicing)"},
	{"nstdb", "118e00", 240, 180, "electrode motion at 0 dB SNR from 300 s (quality gate)"},
	{"nstdb", "ma", 0, 60, "muscle artefact noise, no ECG (noise splicing)"},
}

func main() {
	src := flag.String("src", filepath.Join("..", "shared", "data"), "the full PhysioNet data (mitdb, nstdb, bidmc)")
	dst := flag.String("dst", filepath.Join("testdata", "physionet"), "where the excerpts go")
	flag.Parse()
	if err := run(*src, *dst); err != nil {
		fmt.Fprintln(os.Stderr, "excerpt:", err)
		os.Exit(1)
	}
}

func run(src, dst string) error {
	for _, e := range excerpts {
		if err := os.MkdirAll(filepath.Join(dst, e.db), 0o755); err != nil {
			return err
		}
		if err := cut(filepath.Join(src, e.db, e.rec), filepath.Join(dst, e.db), e); err != nil {
			return fmt.Errorf("%s/%s: %w", e.db, e.rec, err)
		}
	}
	atrs, err := filepath.Glob(filepath.Join(src, "mitdb", "*.atr"))
	if err != nil || len(atrs) == 0 {
		return fmt.Errorf("no MIT-BIH annotation files in %s/mitdb", src)
	}
	if err := os.MkdirAll(filepath.Join(dst, "mitdb", "atr"), 0o755); err != nil {
		return err
	}
	for _, a := range atrs {
		b, err := os.ReadFile(a)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, "mitdb", "atr", filepath.Base(a)), b, 0o644); err != nil {
			return err
		}
	}
	return gz(filepath.Join(src, "bidmc", "bidmc_01_Signals.csv"), filepath.Join(dst, "bidmc", "bidmc_01_Signals.csv.gz"))
}

// cut writes the excerpt e of the record at path into dir.
func cut(path, dir string, e excerpt) error {
	rec, err := wfdb.OpenRecord(path)
	if err != nil {
		return err
	}
	h := rec.Header
	first, n := int64(float64(e.start)*h.Freq), int64(float64(e.seconds)*h.Freq)
	if first+n > h.NumSamples {
		return fmt.Errorf("excerpt %d+%d s runs past the record's %d samples", e.start, e.seconds, h.NumSamples)
	}
	fr, err := rec.Frames()
	if err != nil {
		return err
	}
	defer fr.Close()
	invalid := wfdb.Invalid212
	if h.Signals[0].Format == wfdb.Format16 {
		invalid = wfdb.Invalid16
	}
	samples := make([][]int, len(h.Signals))
	v, ok := make([]int, len(h.Signals)), make([]bool, len(h.Signals))
	for i := int64(0); i < first+n; i++ {
		if err := fr.ReadFrame(v, ok); err != nil {
			return err
		}
		if i < first {
			continue
		}
		for c := range v {
			x := v[c]
			if !ok[c] {
				x = invalid
			}
			samples[c] = append(samples[c], x)
		}
	}
	out := &wfdb.Header{Record: "x_" + e.rec, Freq: h.Freq, Signals: h.Signals}
	out.Comments = append(out.Comments,
		fmt.Sprintf("excerpt of PhysioNet %s record %s, samples %d..%d (%d s from %d s); ODC-By 1.0, see README.md", e.db, e.rec, first, first+n-1, e.seconds, e.start))
	out.Comments = append(out.Comments, h.Comments...)
	if err := wfdb.WriteRecord(dir, out, samples); err != nil {
		return err
	}
	anns, err := wfdb.ReadAnnotationFile(path + ".atr")
	if errors.Is(err, os.ErrNotExist) {
		return nil // the noise records have no annotations
	}
	if err != nil {
		return err
	}
	return wfdb.WriteAnnotationFile(filepath.Join(dir, out.Record+".atr"), shift(anns, first, n))
}

// shift keeps the annotations in [first, first+n), moved to start at 0. The
// rhythm in effect at first, and a ventricular flutter episode open there,
// are restated at sample 0; an episode still open at the end is closed on
// the last sample.
func shift(anns []wfdb.Annotation, first, n int64) []wfdb.Annotation {
	var out []wfdb.Annotation
	var rhythm *wfdb.Annotation
	inVF := false
	for i := range anns {
		a := anns[i]
		if a.Sample < first {
			switch a.Mnemonic() {
			case "+":
				rhythm = &anns[i]
			case "[":
				inVF = true
			case "]":
				inVF = false
			}
			continue
		}
		if a.Sample >= first+n {
			break
		}
		a.Sample -= first
		out = append(out, a)
	}
	var head []wfdb.Annotation
	if inVF && (len(out) == 0 || out[0].Sample > 0 || out[0].Mnemonic() != "[") {
		head = append(head, wfdb.Annotation{Sample: 0, Code: 32}) // "["
	}
	if rhythm != nil && (len(out) == 0 || out[0].Sample > 0 || out[0].Mnemonic() != "+") {
		r := *rhythm
		r.Sample = 0
		head = append(head, r)
	}
	out = append(head, out...)
	open := false
	for _, a := range out {
		switch a.Mnemonic() {
		case "[":
			open = true
		case "]":
			open = false
		}
	}
	if open {
		out = append(out, wfdb.Annotation{Sample: n - 1, Code: 33}) // "]"
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Sample < out[j].Sample })
	return out
}

// gz writes a gzip copy of src (no name, no time: the same bytes every run).
func gz(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, bytes.NewReader(b)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return os.WriteFile(dst, buf.Bytes(), 0o644)
}
