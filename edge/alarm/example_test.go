package alarm

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// TestExampleYAML keeps the documented example equal to Defaults. Decoding
// is strict and into a zero Config, so an unknown key fails and a missing
// key with a non-zero default shows as a difference.
func TestExampleYAML(t *testing.T) {
	f, err := os.Open("testdata/alarms.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got Config
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(Defaults(), got); d != "" {
		t.Errorf("example differs from Defaults (-want +got):\n%s", d)
	}
}
