package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

var testdata = filepath.Join("..", "..", "testdata", "physionet")

// The bench runs on the carried excerpts: per-record rows, both scorings,
// the gross line and the noise stress rows.
func TestRunExcerpts(t *testing.T) {
	var out bytes.Buffer
	args := []string{"-mitdb", filepath.Join(testdata, "mitdb"), "-nstdb", filepath.Join(testdata, "nstdb"), "-floor", "98"}
	if err := run(&out, args); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{"first 0 s excluded", "first 300 s excluded", "\nx_101 ", "\nx_208 ", "MITgross", "\nx_118e00 ", "NSTgross", "premature ventricular beats 300-370 ms"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

// Below the floor the bench fails, naming the floor.
func TestRunFloor(t *testing.T) {
	var out bytes.Buffer
	err := run(&out, []string{"-mitdb", filepath.Join(testdata, "mitdb"), "-records", "x_203", "-floor", "99.99"})
	if err == nil || !strings.Contains(err.Error(), "99.99") {
		t.Errorf("error = %v, want the floor named", err)
	}
}

func TestRunMissingData(t *testing.T) {
	err := run(&bytes.Buffer{}, []string{"-mitdb", t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "no MIT-BIH records") || !strings.Contains(err.Error(), "physionet.org") {
		t.Errorf("error = %v", err)
	}
}
