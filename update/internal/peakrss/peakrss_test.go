package peakrss

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// TestChildPeak: a child that touches 40 MiB reports at least that; one
// that touches nothing reports far less, although the parent is large.
func TestChildPeak(t *testing.T) {
	if os.Getenv("PEAKRSS_CHILD") != "" {
		if os.Getenv("PEAKRSS_CHILD") == "big" {
			b := make([]byte, 40<<20)
			for i := range b {
				b[i] = 1
			}
			_ = b[len(b)-1]
		}
		Report(os.Stdout)
		return
	}
	ballast := bytes.Repeat([]byte{1}, 80<<20) // the parent is large
	run := func(mode string) int64 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestChildPeak$")
		cmd.Env = append(os.Environ(), "PEAKRSS_CHILD="+mode)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		n, err := Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	small, big := run("small"), run("big")
	if big < 40<<20 || small > 40<<20 || small >= big {
		t.Errorf("peaks: small child %d, big child %d (parent holds %d)", small, big, len(ballast))
	}
}
