package layers

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeviceBuildFlags: scripts/device-buildflags (read by make build,
// make bench and check-repro) builds the device binary without HTTP/2 and
// turns inlining off except in the packages whose speed counts. Each
// exception names packages the binary links (a renamed package would
// silently lose its inlining), and every package of the real-time path is
// an exception.
func TestDeviceBuildFlags(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "scripts", "device-buildflags"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var keep, tags []string
	allOff := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if t, ok := strings.CutPrefix(l, "-tags="); ok {
			tags = append(tags, t)
			continue
		}
		pat, ok := strings.CutPrefix(l, "-gcflags=")
		if !ok {
			t.Fatalf("line %q: want -tags=TAGS or -gcflags=PATTERN=FLAGS", l)
		}
		pat, flags, _ := strings.Cut(pat, "=")
		switch {
		case pat == "all" && flags == "-l":
			if len(keep) > 0 {
				t.Fatalf("line %q: after exceptions it would override them (the last matching -gcflags wins)", l)
			}
			allOff = true
		case flags == "":
			keep = append(keep, pat)
		default:
			t.Fatalf("line %q: only all=-l and PATTERN= (inlining back on) are expected", l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(tags) != 1 || tags[0] != "nethttpomithttp2" {
		t.Errorf("tags %q, want exactly -tags=nethttpomithttp2 (go build takes only the last -tags)", tags)
	}
	if !allOff || len(keep) == 0 {
		t.Fatal("want -gcflags=all=-l and then the exceptions")
	}
	deps := list(t, "linux", "arm64", "./cmd/medagent")
	matches := func(pat, path string) bool {
		if p, ok := strings.CutSuffix(pat, "/..."); ok {
			return path == p || strings.HasPrefix(path, p+"/")
		}
		return path == pat
	}
	for _, pat := range keep {
		n := 0
		for path := range deps {
			if matches(pat, path) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("scripts/device-buildflags: %s matches no package of cmd/medagent", pat)
		}
	}
	// The real-time path: acquisition, edge processing, drivers, the spool
	// with its encryption (AES-GCM), what it publishes, and the runtime.
	hotPrefixes := []string{"medagent/acquire", "medagent/edge/", "medagent/sensors", "medagent/hal",
		"medagent/spool", "medagent/telemetry", "medagent/senml", "periph.io/", "runtime", "sync", "math",
		"crypto/aes", "crypto/cipher", "crypto/internal/fips140/aes"}
	for path := range deps {
		hot := false
		for _, p := range hotPrefixes {
			hot = hot || strings.HasPrefix(path, p)
		}
		if !hot {
			continue
		}
		kept := false
		for _, pat := range keep {
			kept = kept || matches(pat, path)
		}
		if !kept {
			t.Errorf("%s is on the real-time path but compiled without inlining: add it to scripts/device-buildflags", path)
		}
	}
}
