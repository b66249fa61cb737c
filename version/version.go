// Package version holds what the build stamped into the binary.
//
// The Makefile sets Version and Commit with -ldflags -X; a plain `go build`
// leaves the defaults. Nothing here reads the clock, so two builds of the
// same commit are byte-identical.
package version

import (
	"fmt"
	"runtime"
)

// Set at link time by the Makefile.
var (
	Version = "dev"
	Commit  = "unknown"
)

// String is the one-line form printed by `medagent version`.
func String() string {
	return fmt.Sprintf("medagent %s (commit %s, %s, %s/%s)",
		Version, Commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
