package ec57

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"medagent/wfdb"
)

func ann(s int64, code int, aux string) wfdb.Annotation {
	return wfdb.Annotation{Sample: s, Code: code, Aux: aux}
}

const (
	cN, cV, cQ, cNoise, cRhythm, cFlutter, cVFOn, cVFOff, cPace, cUnknownQ = 1, 5, 13, 14, 28, 31, 32, 33, 12, 30
)

func TestReference(t *testing.T) {
	anns := []wfdb.Annotation{
		ann(10, cRhythm, "(N"), ann(100, cN, ""), ann(200, cNoise, ""), ann(300, cV, ""),
		ann(400, cRhythm, "(VFL"), ann(450, cFlutter, ""), ann(500, cRhythm, "(N"),
		ann(600, cPace, ""), ann(650, cVFOn, ""), ann(700, cFlutter, ""), ann(800, cVFOff, ""),
		ann(900, cQ, ""), ann(950, cUnknownQ, ""), ann(1000, cRhythm, "(VFL"),
	}
	beats, excl := Reference(anns)
	if diff := cmp.Diff([]int64{100, 300, 600, 900, 950}, beats); diff != "" {
		t.Errorf("beats (-want +got):\n%s", diff)
	}
	want := []Interval{{400, 500}, {650, 801}, {1000, 1 << 62}}
	if diff := cmp.Diff(want, excl); diff != "" {
		t.Errorf("excluded (-want +got):\n%s", diff)
	}
}

func TestCompare(t *testing.T) {
	const rate = 360 // window 54 samples
	cases := []struct {
		name     string
		ref, det []int64
		excl     []Interval
		skip     float64
		want     Result
	}{
		{name: "exact", ref: []int64{100, 400}, det: []int64{100, 400}, want: Result{TP: 2}},
		{name: "edge of window", ref: []int64{100, 400}, det: []int64{154, 346}, want: Result{TP: 2}},
		{name: "outside window", ref: []int64{100}, det: []int64{155}, want: Result{FN: 1, FP: 1}},
		{name: "double detection", ref: []int64{100}, det: []int64{90, 110}, want: Result{TP: 1, FP: 1}},
		{name: "maximum matching", ref: []int64{100, 160}, det: []int64{150, 200}, want: Result{TP: 2}},
		{name: "unsorted input", ref: []int64{400, 100}, det: []int64{401, 99}, want: Result{TP: 2}},
		{name: "excluded ignores both", ref: []int64{100, 500, 900}, det: []int64{100, 520, 700, 900}, excl: []Interval{{450, 800}}, want: Result{TP: 2}},
		{name: "skip learning period", ref: []int64{100, 2000}, det: []int64{50, 2001}, skip: 5, want: Result{TP: 1}},
		{name: "nothing", want: Result{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Compare("", tc.ref, tc.det, tc.excl, Options{Rate: rate, Skip: tc.skip})
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestRatios(t *testing.T) {
	r := Sum("g", Result{TP: 90, FN: 10, FP: 0}, Result{TP: 10, FN: 0, FP: 11})
	if r.TP != 100 || r.FN != 10 || r.FP != 11 || r.Record != "g" {
		t.Fatalf("sum %+v", r)
	}
	if se, ppv := r.Se(), r.PPV(); se != 100.0/110 || ppv != 100.0/111 {
		t.Errorf("Se %v +P %v", se, ppv)
	}
	if (Result{}).Se() != 1 || (Result{}).PPV() != 1 {
		t.Error("empty result should score 1")
	}
}
