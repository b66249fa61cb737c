package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunOneRecord(t *testing.T) {
	data := filepath.Join("..", "..", "..", "shared", "data")
	var out bytes.Buffer
	if err := run(&out, []string{"-data", data, "-records", "101"}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{"first 0 s excluded", "first 300 s excluded", "\n101 ", "MITgross"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

func TestRunMissingData(t *testing.T) {
	if err := run(&bytes.Buffer{}, []string{"-data", t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no MIT-BIH records") {
		t.Errorf("error = %v", err)
	}
}
