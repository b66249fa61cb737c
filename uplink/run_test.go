package uplink

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"medagent/uplink/uplinktest"
)

// TestRunRetriesUnreachableBroker checks that a broker that is not there
// is retried with growing backoff, reported in Status, and that cancel is
// a clean exit.
func TestRunRetriesUnreachableBroker(t *testing.T) {
	p := devPKI(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now

	var logs strings.Builder
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil))
	src := uplinktest.NewSource()
	o := devOptions(p, "tls://"+addr)
	o.BackoffMin, o.BackoffMax = 100*time.Millisecond, 400*time.Millisecond
	u, err := New(o, src, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var sleeps []time.Duration
	u.rand = func() float64 { return 0 }
	u.sleep = func(ctx context.Context, d time.Duration) error {
		sleeps = append(sleeps, d)
		if len(sleeps) == 5 {
			cancel()
			return ctx.Err()
		}
		return nil
	}
	if err := u.Run(ctx); err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
	want := []time.Duration{50, 100, 200, 200, 200}
	for i := range want {
		want[i] *= time.Millisecond
	}
	if len(sleeps) != len(want) {
		t.Fatalf("sleeps = %v, want %v", sleeps, want)
	}
	for i := range want {
		if sleeps[i] != want[i] {
			t.Fatalf("sleeps = %v, want %v", sleeps, want)
		}
	}
	st := u.Status()
	if st.Connected || st.Connects != 0 || st.LastError == nil || !strings.Contains(st.LastError.Error(), "connect") {
		t.Errorf("Status = %+v", st)
	}
	if s := src.Stats(); s.Acked != 0 || s.MaxOutstanding != 0 {
		t.Errorf("source touched without a connection: %+v", s)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if c := strings.Count(logs.String(), "will retry"); c != 5 {
		t.Errorf("logged %d retries, want 5:\n%s", c, logs.String())
	}
}

func TestRunDeadlineIsAnError(t *testing.T) {
	p := devPKI(t)
	u, err := New(devOptions(p, "tls://127.0.0.1:1"), uplinktest.NewSource(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := u.Run(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v, want DeadlineExceeded", err)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
