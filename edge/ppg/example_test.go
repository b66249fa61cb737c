package ppg

import (
	"testing"

	"medagent/edge/internal/exampletest"
)

// TestExampleYAML keeps the documented example equal to Defaults.
func TestExampleYAML(t *testing.T) {
	exampletest.Check(t, "testdata/ppg.example.yaml", Defaults())
}
