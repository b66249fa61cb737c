package wfdb

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testdata is the repository's PhysioNet excerpts (testdata/physionet).
var testdata = filepath.Join("..", "testdata", "physionet")

// publishedBeats are the beat totals of the MIT-BIH Arrhythmia Database
// Directory (PhysioNet) for the DS1 records whose annotation files the
// repository carries whole: an independent check of the annotation decoder.
var publishedBeats = map[string]int{
	"101": 1865, "106": 2027, "108": 1763, "109": 2532, "112": 2539, "114": 1879,
	"115": 1953, "116": 2412, "118": 2278, "119": 1987, "122": 2476, "124": 1619,
	"201": 1963, "203": 2980, "205": 2656, "207": 1860, "208": 2955, "209": 3005,
	"215": 3363, "220": 2048, "223": 2605, "230": 2256,
}

func isBeat(m string) bool { return strings.Contains("NLRBAaJSVrFejnE/fQ?", m) && len(m) == 1 }

// TestExcerpts reads every carried excerpt (formats 212 and 16) to the end:
// the first frame equals the header's initial values and the checksums
// match.
func TestExcerpts(t *testing.T) {
	recs, err := filepath.Glob(filepath.Join(testdata, "*", "x_*.hea"))
	if err != nil || len(recs) < 8 {
		t.Fatalf("want the 8 excerpts of testdata/physionet, found %d (%v)", len(recs), err)
	}
	formats := map[int]bool{}
	for _, path := range recs {
		t.Run(filepath.Base(path), func(t *testing.T) {
			rec, err := OpenRecord(path)
			if err != nil {
				t.Fatal(err)
			}
			h := rec.Header
			formats[h.Signals[0].Format] = true
			if h.Freq != 360 || h.NumSamples < 60*360 || len(h.Signals) != 2 {
				t.Fatalf("header: %v Hz, %d samples, %d signals", h.Freq, h.NumSamples, len(h.Signals))
			}
			fr, err := rec.Frames()
			if err != nil {
				t.Fatal(err)
			}
			defer fr.Close()
			v, ok := make([]int, 2), make([]bool, 2)
			if err := fr.ReadFrame(v, ok); err != nil {
				t.Fatal(err)
			}
			for i, s := range h.Signals {
				if v[i] != s.InitValue || !ok[i] {
					t.Errorf("signal %d first sample %d (valid %v), header initial value %d", i, v[i], ok[i], s.InitValue)
				}
			}
			for err == nil {
				err = fr.ReadFrame(v, ok)
			}
			if err != io.EOF {
				t.Fatalf("end of record: %v (want io.EOF with checksums verified)", err)
			}
			if fr.Frames() != h.NumSamples {
				t.Errorf("read %d frames, header says %d", fr.Frames(), h.NumSamples)
			}
		})
	}
	if !formats[Format16] || !formats[Format212] {
		t.Errorf("excerpts cover formats %v, want 16 and 212", formats)
	}
}

func TestPublishedBeatCounts(t *testing.T) {
	for r, want := range publishedBeats {
		anns, err := ReadAnnotationFile(filepath.Join(testdata, "mitdb", "atr", r+".atr"))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, a := range anns {
			if isBeat(a.Mnemonic()) {
				n++
			}
			if a.Sample >= 650000 {
				t.Errorf("%s: annotation at %d beyond the record", r, a.Sample)
			}
		}
		if n != want {
			t.Errorf("%s: %d beats, published %d", r, n, want)
		}
	}
	// Record 207's ventricular flutter episode is marked by "[" "]" pairs
	// and rhythm annotations "(VFL".
	anns, err := ReadAnnotationFile(filepath.Join(testdata, "mitdb", "atr", "207.atr"))
	if err != nil {
		t.Fatal(err)
	}
	var open, close, vfl int
	for _, a := range anns {
		switch {
		case a.Mnemonic() == "[":
			open++
		case a.Mnemonic() == "]":
			close++
		case a.Mnemonic() == "+" && a.Aux == "(VFL":
			vfl++
		}
	}
	if open == 0 || open != close || vfl == 0 {
		t.Errorf("207: %d '[', %d ']', %d (VFL", open, close, vfl)
	}
}

// copyRecord copies the excerpt x_101 into a temp dir, letting the caller
// edit the header text and truncate the signal file.
func copyRecord(t *testing.T, editHea func(string) string, datBytes int) string {
	t.Helper()
	src := filepath.Join(testdata, "mitdb")
	dst := t.TempDir()
	hea, err := os.ReadFile(filepath.Join(src, "x_101.hea"))
	if err != nil {
		t.Fatal(err)
	}
	dat, err := os.ReadFile(filepath.Join(src, "x_101.dat"))
	if err != nil {
		t.Fatal(err)
	}
	if datBytes >= 0 {
		dat = dat[:datBytes]
	}
	if err := os.WriteFile(filepath.Join(dst, "x_101.hea"), []byte(editHea(string(hea))), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "x_101.dat"), dat, 0o600); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dst, "x_101")
}

func drain(t *testing.T, path string) error {
	t.Helper()
	rec, err := OpenRecord(path)
	if err != nil {
		return err
	}
	fr, err := rec.Frames()
	if err != nil {
		return err
	}
	defer fr.Close()
	v, ok := make([]int, 2), make([]bool, 2)
	for {
		if err := fr.ReadFrame(v, ok); err != nil {
			return err
		}
	}
}

func TestCorruptRecords(t *testing.T) {
	same := func(s string) string { return s }
	cases := []struct {
		name string
		path func(t *testing.T) string
		err  error
		says string
	}{
		{"checksum", func(t *testing.T) string {
			return copyRecord(t, func(s string) string { return strings.Replace(s, " 4747 ", " 4748 ", 1) }, -1)
		}, ErrChecksum, "4748"},
		{"short file", func(t *testing.T) string { return copyRecord(t, same, 3000) }, ErrTruncated, "1000 frames"},
		{"cut inside frame", func(t *testing.T) string { return copyRecord(t, same, 3001) }, ErrTruncated, "x_101.dat"},
		{"unsupported format", func(t *testing.T) string {
			return copyRecord(t, func(s string) string { return strings.ReplaceAll(s, " 212 ", " 310 ") }, -1)
		}, ErrUnsupported, "310"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := drain(t, tc.path(t))
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("error = %v, want %v mentioning %q", err, tc.err, tc.says)
			}
		})
	}
}

func BenchmarkReadRecord(b *testing.B) {
	path := filepath.Join(testdata, "mitdb", "x_101")
	v, ok := make([]int, 2), make([]bool, 2)
	b.ReportAllocs()
	for b.Loop() {
		rec, err := OpenRecord(path)
		if err != nil {
			b.Fatal(err)
		}
		fr, err := rec.Frames()
		if err != nil {
			b.Fatal(err)
		}
		for fr.ReadFrame(v, ok) == nil {
		}
		fr.Close()
	}
	b.ReportMetric(108000*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
