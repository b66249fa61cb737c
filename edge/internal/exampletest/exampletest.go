// Package exampletest checks a documented example configuration against the
// defaults it documents, for the edge packages' tests.
package exampletest

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// Check decodes the YAML file at path strictly into a zero T and compares
// it with want: an unknown key fails, and a missing key with a non-zero
// default shows as a difference.
func Check[T any](t *testing.T, path string, want T) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got T
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s differs from the defaults (-want +got):\n%s", path, d)
	}
}
