package engine

import (
	"bytes"
	"strings"
	"testing"
)

func TestProgressBar(t *testing.T) {
	if got := renderBar(3<<20, 12<<20, 8); got != "\r[##      ]  25% 3.0/12.0 MiB" {
		t.Errorf("bar %q", got)
	}
	var b bytes.Buffer
	p := progressBar(&b)
	p(1, 100)
	p(2, 100) // throttled
	p(100, 100)
	if n := strings.Count(b.String(), "\r"); n != 2 || !strings.HasSuffix(b.String(), "100% 0.0/0.0 MiB\n") {
		t.Errorf("output %q", b.String())
	}
	if isTerminal(&b) {
		t.Error("a buffer is not a terminal")
	}
}
