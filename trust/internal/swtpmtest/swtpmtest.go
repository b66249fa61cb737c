// Package swtpmtest runs Debian's swtpm (a software TPM 2.0) for tests.
package swtpmtest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Missing is the failure message when swtpm is not installed.
const Missing = "swtpm not found: install Debian packages swtpm swtpm-tools (scripts/setup.sh)"

// Sim is a running swtpm.
type Sim struct {
	Path     string // for tpmio.Open: "unix:<socket>"
	StateDir string
	cmd      *exec.Cmd
}

// Start runs swtpm with its state in stateDir (reuse the directory to
// "reboot" the same TPM) and stops it at the end of the test. It fails the
// test if swtpm is missing.
func Start(t testing.TB, stateDir string) *Sim {
	t.Helper()
	bin, err := exec.LookPath("swtpm")
	if err != nil {
		t.Fatal(Missing)
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(stateDir, "s")
	os.Remove(sock)
	cmd := exec.Command(bin, "socket", "--tpm2",
		"--tpmstate", "dir="+stateDir,
		"--server", "type=unixio,path="+sock,
		"--flags", "not-need-init,startup-clear",
		"--log", "file="+filepath.Join(stateDir, "log"))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start swtpm: %v", err)
	}
	s := &Sim{Path: "unix:" + sock, StateDir: stateDir, cmd: cmd}
	t.Cleanup(s.Stop)
	for i := 0; ; i++ {
		// The socket file appears at bind, before swtpm listens: wait
		// until it accepts a connection (a loaded machine showed
		// "connection refused" in between).
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return s
		}
		if i == 100 {
			log, _ := os.ReadFile(filepath.Join(stateDir, "log"))
			t.Fatalf("swtpm did not accept connections on %s within 5 s; log:\n%s", sock, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop terminates swtpm (it saves its state) and waits for it.
func (s *Sim) Stop() {
	if s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}
