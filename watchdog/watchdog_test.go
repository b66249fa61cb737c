package watchdog

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// listen opens a real unixgram socket as systemd would and points
// NOTIFY_SOCKET at it. The path is short: sun_path holds 108 bytes.
func listen(t *testing.T) *net.UnixConn {
	t.Helper()
	dir, err := os.MkdirTemp("", "wd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return c
}

// recv returns the next datagram, or "" after the timeout.
func recv(t *testing.T, c *net.UnixConn, timeout time.Duration) string {
	t.Helper()
	buf := make([]byte, 512)
	c.SetReadDeadline(time.Now().Add(timeout))
	n, err := c.Read(buf)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return ""
		}
		t.Fatalf("read notify socket: %v", err)
	}
	return string(buf[:n])
}

func start(t *testing.T, w *Watchdog) (cancel func() error) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return func() error {
		stop()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after cancel")
			return nil
		}
	}
}

func TestSystemdReadyAndPets(t *testing.T) {
	c := listen(t)
	t.Setenv("WATCHDOG_USEC", "40000") // pets every 20 ms
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	w, err := New(Options{Interval: 10 * time.Minute}, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, w)
	if got := recv(t, c, 2*time.Second); got != "READY=1\nWATCHDOG=1\n" {
		t.Fatalf("first message %q, want READY=1 and WATCHDOG=1", got)
	}
	for i := 0; i < 3; i++ {
		if got := recv(t, c, 2*time.Second); got != "WATCHDOG=1\n" {
			t.Fatalf("pet %d: got %q, want WATCHDOG=1", i, got)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
	// Drain pets sent before the cancel; the last message is STOPPING=1.
	last := ""
	for m := recv(t, c, 200*time.Millisecond); m != ""; m = recv(t, c, 200*time.Millisecond) {
		last = m
	}
	if last != "STOPPING=1\n" {
		t.Fatalf("last message %q, want STOPPING=1", last)
	}
}

func TestUnhealthyStopsPetting(t *testing.T) {
	c := listen(t)
	t.Setenv("WATCHDOG_USEC", "20000")
	t.Setenv("WATCHDOG_PID", "")
	var sick atomic.Bool
	dev := filepath.Join(t.TempDir(), "watchdog")
	if err := os.WriteFile(dev, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := New(Options{Device: dev, Interval: 10 * time.Minute, Healthy: func() error {
		if sick.Load() {
			return errors.New("sampler stuck")
		}
		return nil
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, w)
	if got := recv(t, c, 2*time.Second); !strings.HasPrefix(got, "READY=1") {
		t.Fatalf("first message %q, want READY=1", got)
	}
	sick.Store(true)
	// At most one pet can be in flight when the health turns; then silence.
	recv(t, c, 50*time.Millisecond)
	before := size(t, dev)
	if got := recv(t, c, 300*time.Millisecond); got != "" {
		t.Fatalf("unhealthy agent still pets systemd: %q", got)
	}
	if after := size(t, dev); after != before {
		t.Fatalf("unhealthy agent still pets the device: %d -> %d bytes", before, after)
	}
	sick.Store(false)
	if got := recv(t, c, 2*time.Second); got != "WATCHDOG=1\n" {
		t.Fatalf("recovered agent: got %q, want WATCHDOG=1 (and no second READY)", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func size(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestDeviceMagicClose(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	tests := []struct {
		name    string
		healthy bool
		last    byte
	}{
		{"healthy stop disarms", true, 'V'},
		{"unhealthy stop stays armed", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dev := filepath.Join(t.TempDir(), "watchdog")
			if err := os.WriteFile(dev, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			var calls atomic.Int32
			w, err := New(Options{Device: dev, Interval: 10 * time.Millisecond, Healthy: func() error {
				// Healthy for the first three checks, then as the case says.
				if calls.Add(1) <= 3 || tc.healthy {
					return nil
				}
				return errors.New("stuck")
			}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			stop := start(t, w)
			deadline := time.Now().Add(5 * time.Second)
			for calls.Load() < 6 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(dev)
			if err != nil {
				t.Fatal(err)
			}
			pets := bytes.Count(b, []byte{'.'})
			if pets < 3 {
				t.Fatalf("device got %q: want at least 3 pets", b)
			}
			if !tc.healthy && pets != 3 {
				t.Fatalf("device got %d pets, want exactly 3 (none while unhealthy): %q", pets, b)
			}
			var last byte
			if b[len(b)-1] == 'V' {
				last = 'V'
			}
			if last != tc.last {
				t.Fatalf("device bytes %q: last magic %q, want %q", b, last, tc.last)
			}
		})
	}
}

func TestDevicePipe(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer wr.Close()
	dev := "/dev/fd/" + strconv.Itoa(int(wr.Fd()))
	w, err := New(Options{Device: dev, Interval: 10 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, w)
	buf := make([]byte, 2)
	r.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := ioReadFull(r, buf); err != nil || string(buf) != ".." {
		t.Fatalf("pipe got %q, %v: want two pets", buf, err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func ioReadFull(f *os.File, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := f.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, socket, usec, pid, device string
		newErr, runErr                  string
	}{
		{name: "bad usec", socket: "/nonexistent/s", usec: "abc", newErr: "WATCHDOG_USEC"},
		{name: "zero usec", socket: "/nonexistent/s", usec: "0", newErr: "WATCHDOG_USEC"},
		{name: "bad pid", socket: "/nonexistent/s", usec: "1000", pid: "x", newErr: "WATCHDOG_PID"},
		{name: "usec without socket", usec: "1000", newErr: "NOTIFY_SOCKET"},
		{name: "missing device", device: "/nonexistent/watchdog", runErr: "/nonexistent/watchdog"},
		{name: "socket gone", socket: "/nonexistent/s", runErr: "notify socket"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("NOTIFY_SOCKET", tc.socket)
			t.Setenv("WATCHDOG_USEC", tc.usec)
			t.Setenv("WATCHDOG_PID", tc.pid)
			w, err := New(Options{Device: tc.device}, nil)
			if tc.newErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.newErr) || !errors.Is(err, errBadEnv) {
					t.Fatalf("New: %v, want an error naming %s", err, tc.newErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err = w.Run(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.runErr) {
				t.Fatalf("Run: %v, want an error naming %s", err, tc.runErr)
			}
		})
	}
}

func TestWatchdogPIDOfAnotherProcess(t *testing.T) {
	c := listen(t)
	t.Setenv("WATCHDOG_USEC", "20000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()+1))
	w, err := New(Options{Interval: 10 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, w)
	if got := recv(t, c, 2*time.Second); got != "READY=1\n" {
		t.Fatalf("got %q, want READY=1 without WATCHDOG=1", got)
	}
	if got := recv(t, c, 100*time.Millisecond); got != "" {
		t.Fatalf("pets meant for another process: %q", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestNothingConfigured(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	w, err := New(Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Run(context.Background()); err != nil {
		t.Fatalf("Run with nothing to pet: %v", err)
	}
}
