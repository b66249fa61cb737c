package temp

import (
	"testing"

	"medagent/edge/internal/exampletest"
)

// TestExampleYAML keeps the documented example equal to Defaults.
func TestExampleYAML(t *testing.T) {
	exampletest.Check(t, "testdata/temp.example.yaml", Defaults())
}
