package wfdb

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Every decoder table case that ends cleanly encodes back to its bytes.
func TestEncodeSignalsRoundTrip(t *testing.T) {
	for _, tc := range datCases {
		if tc.err != nil {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			samples := make([][]int, tc.nsig)
			for _, f := range tc.want {
				for i := range f.V {
					v := f.V[i]
					if !f.OK[i] {
						v = Invalid212
						if tc.format == Format16 {
							v = Invalid16
						}
					}
					samples[i] = append(samples[i], v)
				}
			}
			var b bytes.Buffer
			if err := EncodeSignals(&b, tc.format, samples); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), tc.data) {
				t.Errorf("encoded % x, want % x", b.Bytes(), tc.data)
			}
		})
	}
}

func TestEncodeSignalsRejects(t *testing.T) {
	for _, tc := range []struct {
		name    string
		format  int
		samples [][]int
		err     error
	}{
		{"212 too large", Format212, [][]int{{2048}}, ErrWrite},
		{"16 too small", Format16, [][]int{{-32769}}, ErrWrite},
		{"ragged", Format16, [][]int{{1, 2}, {1}}, ErrWrite},
		{"no signals", Format16, nil, ErrWrite},
		{"format 80", 80, [][]int{{1}}, ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := EncodeSignals(io.Discard, tc.format, tc.samples); !errors.Is(err, tc.err) {
				t.Errorf("error = %v, want %v", err, tc.err)
			}
		})
	}
}

// A written record reads back with the same samples, passes its checksums
// and keeps gain, baseline, units and descriptions.
func TestWriteRecordRoundTrip(t *testing.T) {
	for _, format := range []int{Format212, Format16} {
		dir := t.TempDir()
		n := 2001 // odd: format 212 ends with a two-byte sample
		samples := [][]int{make([]int, n), make([]int, n)}
		for i := 0; i < n; i++ {
			samples[0][i] = (i*37)%4000 - 2000
			samples[1][i] = -(i*11)%3000 + 1000
		}
		samples[1][7] = Invalid212
		if format == Format16 {
			samples[1][7] = Invalid16
		}
		h := &Header{Record: "rt", Freq: 360, Comments: []string{"excerpt of nothing"}, Signals: []Signal{
			{Format: format, Gain: 200, Baseline: 1024, ADCRes: 11, ADCZero: 1024, Description: "MLII"},
			{Format: format, Gain: 100, Baseline: -3, Units: "uV", ADCRes: 12, Description: "V5 lead"},
		}}
		if err := WriteRecord(dir, h, samples); err != nil {
			t.Fatal(err)
		}
		rec, err := OpenRecord(filepath.Join(dir, "rt"))
		if err != nil {
			t.Fatal(err)
		}
		got := rec.Header
		if got.Freq != 360 || got.NumSamples != int64(n) || got.Signals[1].Units != "uV" || got.Signals[1].Baseline != -3 ||
			got.Signals[0].Gain != 200 || got.Signals[1].Description != "V5 lead" || len(got.Comments) != 1 {
			t.Fatalf("header read back as %+v", got)
		}
		fr, err := rec.Frames()
		if err != nil {
			t.Fatal(err)
		}
		v, ok := make([]int, 2), make([]bool, 2)
		for i := 0; ; i++ {
			err := fr.ReadFrame(v, ok)
			if err == io.EOF {
				if i != n {
					t.Fatalf("format %d: %d frames read back, wrote %d", format, i, n)
				}
				break
			}
			if err != nil {
				t.Fatalf("format %d frame %d: %v", format, i, err)
			}
			for c := 0; c < 2; c++ {
				want := samples[c][i]
				if c == 1 && i == 7 {
					if ok[c] {
						t.Fatalf("format %d: invalid marker read back as valid %d", format, v[c])
					}
					continue
				}
				if v[c] != want || !ok[c] {
					t.Fatalf("format %d frame %d signal %d: %d (valid %v), wrote %d", format, i, c, v[c], ok[c], want)
				}
			}
		}
		fr.Close()
	}
}

var annotationCases = [][]Annotation{
	{{Sample: 18, Code: 1}, {Sample: 370, Code: 5, Subtype: -1}, {Sample: 5000, Code: 28, Aux: "(VFL"},
		{Sample: 5000, Code: 0 + 1, Chan: 1, Num: 3}, {Sample: 70000000, Code: 1, Chan: 1, Num: 3, Aux: "odd"}},
	{},
}

func TestEncodeAnnotationsRoundTrip(t *testing.T) {
	for _, anns := range annotationCases {
		var b bytes.Buffer
		if err := EncodeAnnotations(&b, anns); err != nil {
			t.Fatal(err)
		}
		got, err := ReadAnnotations(&b, "rt.atr")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(anns, got, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("round trip (-wrote +read):\n%s", d)
		}
	}
	if err := EncodeAnnotations(io.Discard, []Annotation{{Sample: 5, Code: 1}, {Sample: 4, Code: 1}}); !errors.Is(err, ErrWrite) {
		t.Errorf("unsorted annotations: error %v, want ErrWrite", err)
	}
}
