package swtpmtest

import (
	"runtime"
	"testing"
)

type recorder struct {
	testing.TB
	msg string
}

func (r *recorder) Helper()           {}
func (r *recorder) Fatal(args ...any) { r.msg = args[0].(string); runtime.Goexit() }

// TestMissingSwtpmFailsWithFix: without swtpm on PATH, Start fails the
// test naming the Debian packages, never skips.
func TestMissingSwtpmFailsWithFix(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() { defer close(done); Start(r, t.TempDir()) }()
	<-done
	if r.msg != Missing || Missing != "swtpm not found: install Debian packages swtpm swtpm-tools (scripts/setup.sh)" {
		t.Fatalf("failure message %q", r.msg)
	}
}
