package ecg_test

import (
	"path/filepath"
	"runtime"
	"testing"

	"medagent/edge/ec57"
	"medagent/edge/ecg"
	"medagent/wfdb"
)

// mitdb is the repository's MIT-BIH excerpts (testdata/physionet/mitdb).
var mitdb = filepath.Join("..", "..", "testdata", "physionet", "mitdb")

// loadRecord returns all frames of a record as physical values.
func loadRecord(t testing.TB, path string) (*wfdb.Header, [][]float64, [][]bool) {
	t.Helper()
	rec, err := wfdb.OpenRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	fr, err := rec.Frames()
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	h := rec.Header
	x := make([][]float64, len(h.Signals))
	ok := make([][]bool, len(h.Signals))
	v, valid := make([]int, len(h.Signals)), make([]bool, len(h.Signals))
	for fr.ReadFrame(v, valid) == nil {
		for c, s := range h.Signals {
			x[c] = append(x[c], s.Physical(v[c]))
			ok[c] = append(ok[c], valid[c])
		}
	}
	return h, x, ok
}

// TestRecordsFloor scores the detector on the carried excerpts of hard
// records (and one easy one) with MLII. The floor sits just under what the
// detector measures on them, so a regression fails here first; the full
// records are scored by make bench-ecg.
func TestRecordsFloor(t *testing.T) {
	dir := mitdb
	var results []ec57.Result
	for _, r := range []string{"x_101", "x_108", "x_203", "x_208"} {
		h, x, ok := loadRecord(t, filepath.Join(dir, r))
		ch := h.FindSignal("MLII")
		d, err := ecg.NewDetector(ecg.Options{Rate: h.Freq})
		if err != nil {
			t.Fatal(err)
		}
		var det []int64
		for i := range x[ch] {
			if b, got := d.Push(x[ch][i], ok[ch][i]); got {
				det = append(det, b.Index)
			}
		}
		anns, err := wfdb.ReadAnnotationFile(filepath.Join(dir, r+".atr"))
		if err != nil {
			t.Fatal(err)
		}
		ref, excl := ec57.Reference(anns)
		res := ec57.Compare(r, ref, det, excl, ec57.Options{Rate: h.Freq})
		t.Logf("%s: TP %d FN %d FP %d Se %.3f%% +P %.3f%%", r, res.TP, res.FN, res.FP, 100*res.Se(), 100*res.PPV())
		results = append(results, res)
	}
	g := ec57.Sum("gross", results...)
	t.Logf("gross: Se %.3f%% +P %.3f%%", 100*g.Se(), 100*g.PPV())
	if g.Se() < 0.9900 || g.PPV() < 0.9950 {
		t.Errorf("gross Se %.3f%% +P %.3f%% below the floor (99.00%% / 99.50%%)", 100*g.Se(), 100*g.PPV())
	}
}

// BenchmarkTwoChannelRecord runs one detector per channel over record 101
// (the carried 5-minute excerpt, two channels at 360 Hz) and reports throughput as multiples of real
// time on one core and allocations per sample.
func BenchmarkTwoChannelRecord(b *testing.B) {
	h, x, ok := loadRecord(b, filepath.Join(mitdb, "x_101"))
	n := len(x[0])
	d0, _ := ecg.NewDetector(ecg.Options{Rate: h.Freq, MainsHz: 60})
	d1, _ := ecg.NewDetector(ecg.Options{Rate: h.Freq, MainsHz: 60})
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for b.Loop() {
		for i := 0; i < n; i++ {
			d0.Push(x[0][i], ok[0][i])
			d1.Push(x[1][i], ok[1][i])
		}
	}
	runtime.ReadMemStats(&m1)
	sec := b.Elapsed().Seconds()
	frames := float64(n) * float64(b.N)
	b.ReportMetric(frames/sec, "frames/s")
	b.ReportMetric(frames/sec/h.Freq, "x_realtime")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/(2*frames), "allocs/sample")
}
