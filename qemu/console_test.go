//go:build qemu

package qemu

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// console records QEMU's serial output (also copied to a file) and lets the
// test wait for lines.
type console struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	wake chan struct{}
	file *os.File
}

func newConsole(path string) (*console, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &console{wake: make(chan struct{}), file: f}, nil
}

func (c *console) Write(p []byte) (int, error) {
	c.file.Write(p)
	c.mu.Lock()
	c.buf.Write(p)
	close(c.wake)
	c.wake = make(chan struct{})
	c.mu.Unlock()
	return len(p), nil
}

// waitFor waits for want in the output after offset from and returns the
// offset just past it, failing the test after timeout.
func (c *console) waitFor(t *testing.T, from int, want string, timeout time.Duration) int {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		s, wake := c.buf.String(), c.wake
		c.mu.Unlock()
		if i := strings.Index(s[from:], want); i >= 0 {
			return from + i + len(want)
		}
		select {
		case <-wake:
		case <-deadline.C:
			t.Fatalf("serial console: no %q after %v (console in %s)", want, timeout, c.file.Name())
		}
	}
}

// waitForAny waits for the first of wants after from; it returns which and the offset past it.
func (c *console) waitForAny(t *testing.T, from int, timeout time.Duration, wants ...string) (string, int) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		s, wake := c.buf.String(), c.wake
		c.mu.Unlock()
		best, bestAt := "", -1
		for _, w := range wants {
			if i := strings.Index(s[from:], w); i >= 0 && (bestAt < 0 || i < bestAt) {
				best, bestAt = w, i
			}
		}
		if bestAt >= 0 {
			return best, from + bestAt + len(best)
		}
		select {
		case <-wake:
		case <-deadline.C:
			t.Fatalf("serial console: none of %q after %v (console in %s)", wants, timeout, c.file.Name())
		}
	}
}

// line returns the rest of the line that starts at offset at.
func (c *console) line(at int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.buf.String()[at:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// find returns the first line of the output so far that contains sub, or "".
func (c *console) find(sub string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.buf.String()
	i := strings.Index(s, sub)
	if i < 0 {
		return ""
	}
	start := strings.LastIndexByte(s[:i], '\n') + 1
	end := len(s)
	if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
		end = i + j
	}
	return strings.TrimSpace(s[start:end])
}
