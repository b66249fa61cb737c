//go:build qemu

package qemu

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookServer is the test's side of the bench hook (testdata/hook.sh): an HTTP
// server on the host's loopback, which the guest reaches as 10.0.2.2. The
// hook fetches the next step (long poll), runs it and posts its output;
// /time gives the host's clock to a guest that has none.
type hookServer struct {
	srv     *http.Server
	port    int
	mu      sync.Mutex
	steps   []string
	wake    chan struct{}
	reports []report
	// logf prints a line to the test log (with the time since start).
	logf func(format string, args ...any)
	dir  string // each report is also kept here, for the record
}

// report is one step's output as the guest posted it.
type report struct {
	Step, Release, Slot string
	Body                string
	At                  time.Time
}

func newHookServer(t *testing.T, dir string, logf func(string, ...any)) *hookServer {
	t.Helper()
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &hookServer{port: ln.Addr().(*net.TCPAddr).Port, wake: make(chan struct{}), logf: logf, dir: dir}
	mux := http.NewServeMux()
	mux.HandleFunc("/step", c.step)
	mux.HandleFunc("/report", c.report)
	mux.HandleFunc("/time", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d\n", time.Now().Unix())
	})
	c.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go c.srv.Serve(ln)
	t.Cleanup(func() { c.srv.Close() })
	return c
}

// step hands out the next queued step, waiting up to 15 s for one.
func (c *hookServer) step(w http.ResponseWriter, r *http.Request) {
	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		if len(c.steps) > 0 {
			s := c.steps[0]
			c.steps = c.steps[1:]
			c.mu.Unlock()
			c.logf("guest (release %s, slot %s) takes step %s", r.FormValue("release"), r.FormValue("slot"), s)
			io.WriteString(w, s)
			return
		}
		wake := c.wake
		c.mu.Unlock()
		select {
		case <-wake:
		case <-deadline.C:
			return // empty: ask again
		case <-r.Context().Done():
			return
		}
	}
}

func (c *hookServer) report(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rep := report{Step: r.FormValue("step"), Release: r.FormValue("release"), Slot: r.FormValue("slot"), Body: string(b), At: time.Now()}
	c.mu.Lock()
	os.WriteFile(filepath.Join(c.dir, fmt.Sprintf("%03d-%s-%s.txt", len(c.reports), rep.Release, rep.Step)), b, 0o644)
	c.reports = append(c.reports, rep)
	close(c.wake)
	c.wake = make(chan struct{})
	c.mu.Unlock()
	c.logf("guest (release %s, slot %s) reports %s (%d bytes)", rep.Release, rep.Slot, rep.Step, len(b))
}

// ask queues steps for the hook.
func (c *hookServer) ask(steps ...string) {
	c.mu.Lock()
	c.steps = append(c.steps, steps...)
	close(c.wake)
	c.wake = make(chan struct{})
	c.mu.Unlock()
}

// wait waits for the first report of step after index from (see reportsSoFar)
// and returns it with the index past it.
func (c *hookServer) wait(t *testing.T, from int, step string, timeout time.Duration) (report, int) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		for i := from; i < len(c.reports); i++ {
			if c.reports[i].Step == step {
				r := c.reports[i]
				c.mu.Unlock()
				return r, i + 1
			}
		}
		wake := c.wake
		c.mu.Unlock()
		select {
		case <-wake:
		case <-deadline.C:
			t.Fatalf("no report %q from the guest's hook within %v", step, timeout)
		}
	}
}

// run asks for one step and waits for its report.
func (c *hookServer) run(t *testing.T, step string, timeout time.Duration) report {
	t.Helper()
	n := c.reportsSoFar()
	c.ask(step)
	r, _ := c.wait(t, n, step, timeout)
	return r
}

func (c *hookServer) reportsSoFar() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.reports)
}

// tried is one "try" block of a hook report: the command, its output and
// its exit status.
type tried struct {
	Cmd    string
	Output string
	Exit   int
}

// parseTries splits a report made of hook.sh "try" blocks.
func parseTries(body string) []tried {
	var out []tried
	var cur *tried
	for _, l := range strings.Split(body, "\n") {
		switch {
		case strings.HasPrefix(l, "$ "):
			out = append(out, tried{Cmd: l[2:], Exit: -1})
			cur = &out[len(out)-1]
		case cur != nil && strings.HasPrefix(l, "exit "):
			cur.Exit, _ = strconv.Atoi(strings.TrimPrefix(l, "exit "))
			cur = nil
		case cur != nil:
			cur.Output += l + "\n"
		}
	}
	return out
}
