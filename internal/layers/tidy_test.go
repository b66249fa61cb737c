package layers

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"testing"
)

// go.mod and go.sum are what `go mod tidy` makes of the code: every
// direct dependency listed as direct, nothing unused, every sum present.
func TestGoModTidy(t *testing.T) {
	cmd := exec.Command("go", "mod", "tidy", "-diff")
	cmd.Dir = filepath.Join("..", "..")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("go mod tidy would change go.mod or go.sum (%v); run go mod tidy and commit:\n%s", err, out.Bytes())
	}
}
