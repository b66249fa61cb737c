package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"medagent/control"
)

// TestWatchTerminal checks that sensors watch redraws on a terminal and
// prints plain lines (no escape sequences) otherwise.
func TestWatchTerminal(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "control.sock")
	hr := 72.0
	s, err := control.NewServer(control.Options{Path: sock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Provider: control.Provider{Sensors: func(context.Context) []control.Sensor {
			return []control.Sensor{{Name: "ecg", Driver: "sim-ecg", Rate: 500, State: "ok",
				Values: []control.Value{{Name: "MDC_ECG_HEART_RATE", Unit: "1/min", Value: &hr}}}}
		}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for i := 0; i < 500; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	args := []string{"sensors", "watch", "--interval=100ms", "--count=2", "--socket", sock}

	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	var errb bytes.Buffer
	if code := Main(context.Background(), args, tty, &errb); code != 0 {
		t.Fatalf("watch on a terminal: exit %d: %s", code, errb.String())
	}
	tty.Close()
	onTTY, _ := io.ReadAll(ptmx) // ends with EIO once the tty is closed
	if n := strings.Count(string(onTTY), "\x1b[H\x1b[2J"); n != 2 || !strings.Contains(string(onTTY), "HR 72 1/min") {
		t.Fatalf("terminal output has %d redraws, want 2:\n%q", n, onTTY)
	}

	var out bytes.Buffer
	if code := Main(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("watch to a pipe: exit %d: %s", code, errb.String())
	}
	if strings.Contains(out.String(), "\x1b") || strings.Count(out.String(), " ecg ok HR 72 1/min\n") != 2 {
		t.Fatalf("plain output:\n%q", out.String())
	}
}
