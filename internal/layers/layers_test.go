package layers

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pkg is what `go list -json` says of one package.
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Standard   bool
}

// list runs `go list -deps -json` on patterns from the module root for
// one platform and returns every package it names, by import path.
func list(t *testing.T, goos, goarch string, patterns ...string) map[string]*pkg {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-deps", "-json"}, patterns...)...)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "GOARM=7", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v\n%s", patterns, err, stderr.Bytes())
	}
	pkgs := map[string]*pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = &p
	}
	return pkgs
}

// benchOnly reports why a package may not be in the device binary, or "".
func benchOnly(path string) string {
	last := path[strings.LastIndex(path, "/")+1:]
	switch {
	case path == "github.com/creack/pty":
		return "a pseudo-terminal (the simulated oximeter's)"
	case strings.HasPrefix(path, "github.com/mochi-mqtt/"):
		return "the demo's MQTT broker"
	case path == "testing" || strings.HasPrefix(path, "testing/"):
		return "package testing"
	case !strings.HasPrefix(path, "medagent/"):
		return ""
	case strings.HasPrefix(path, "medagent/devtools/") || strings.HasPrefix(path, "medagent/bench/"):
		return "development and benchmark code"
	case path == "medagent/sensors/sim" || strings.HasSuffix(last, "sim") || last == "simpin" || last == "simrig" || last == "simbench":
		return "a simulator"
	case strings.HasSuffix(last, "test"):
		return "a test helper"
	}
	return ""
}

var platforms = [][2]string{{"linux", "amd64"}, {"linux", "arm64"}, {"linux", "arm"}}

// The device binary links no simulator, pty, demo broker or test helper.
func TestDeviceBinaryLinksNoBenchCode(t *testing.T) {
	for _, pl := range platforms {
		deps := list(t, pl[0], pl[1], "./cmd/medagent")
		for path := range deps {
			if why := benchOnly(path); why != "" {
				t.Errorf("%s/%s: cmd/medagent links %s: %s", pl[0], pl[1], path, why)
			}
		}
	}
}

// The rule sees what it forbids: the bench build links the simulators
// and the pty.
func TestBenchBinaryLinksTheSimulators(t *testing.T) {
	deps := list(t, "linux", "amd64", "./cmd/medagent-sim")
	for _, want := range []string{"medagent/sensors/simrig", "medagent/sensors/sim", "github.com/creack/pty", "medagent/sensors/ads1292/ads1292sim"} {
		if deps[want] == nil {
			t.Errorf("cmd/medagent-sim does not link %s", want)
		} else if benchOnly(want) == "" {
			t.Errorf("%s is linked by the bench build but benchOnly does not know it", want)
		}
	}
}

// hal imports no sensor package, directly or not.
func TestHALImportsNoSensor(t *testing.T) {
	pkgs := list(t, "linux", "arm64", "./hal/...")
	for path, p := range pkgs {
		if !strings.HasPrefix(path, "medagent/hal") {
			continue
		}
		for _, d := range append(p.Imports, p.Deps...) {
			if strings.HasPrefix(d, "medagent/sensors") {
				t.Errorf("%s imports %s: hal opens buses and knows no sensor part", path, d)
			}
		}
	}
}

// ioPackage reports whether a standard package does I/O or logs.
func ioPackage(path string) bool {
	for _, p := range []string{"os", "net", "syscall", "io/fs", "io/ioutil", "log", "unsafe", "plugin", "runtime/cgo"} {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// pureRoots are the packages whose whole medagent closure does no I/O;
// offline are the edge packages exempt, with the reason.
var (
	pureRoots = []string{"./edge/...", "./sensors", "./telemetry"}
	offline   = map[string]string{
		"medagent/edge/replay":               "medagent replay reads WFDB records from files",
		"medagent/edge/ec57":                 "EC57 scoring reads WFDB annotation files (bench)",
		"medagent/edge/internal/exampletest": "test helper reading the example files",
		"medagent/edge/ecg/ecgtest":          "test helper",
		"medagent/wfdb":                      "the WFDB reader (only the offline tools link it)",
		"medagent/internal/cmdline":          "the command line (only replay links it)",
	}
)

// The edge stage and what it links import no I/O package.
func TestEdgeDoesNoIO(t *testing.T) {
	pkgs := list(t, "linux", "arm64", pureRoots...)
	checked := 0
	for path, p := range pkgs {
		if !strings.HasPrefix(path, "medagent/") || offline[path] != "" {
			continue
		}
		if !strings.HasPrefix(path, "medagent/edge/") && !reachable(pkgs, path) {
			continue
		}
		checked++
		for _, imp := range p.Imports {
			if ioPackage(imp) {
				t.Errorf("%s imports %s: the edge stage is pure (I/O at the edges, in acquire and the CLI)", path, imp)
			}
		}
	}
	if checked < 6 {
		t.Fatalf("checked %d packages, want the edge stage and what it links", checked)
	}
}

// reachable reports whether a non-exempt edge package (or a pure root)
// links path.
func reachable(pkgs map[string]*pkg, path string) bool {
	for from, p := range pkgs {
		if offline[from] != "" || !(strings.HasPrefix(from, "medagent/edge/") || from == "medagent/sensors" || from == "medagent/telemetry") {
			continue
		}
		if from == path || slices.Contains(p.Deps, path) {
			return true
		}
	}
	return false
}
