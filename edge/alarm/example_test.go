package alarm

import (
	"testing"

	"medagent/edge/internal/exampletest"
)

// TestExampleYAML keeps the documented example equal to Defaults.
func TestExampleYAML(t *testing.T) {
	exampletest.Check(t, "testdata/alarms.example.yaml", Defaults())
}
