package est

import (
	"io"
	"log/slog"
	"testing"
	"time"
)

func TestBackoffDoublesAndCaps(t *testing.T) {
	r := &Renewer{o: Options{MinBackoff: time.Minute, MaxBackoff: 10 * time.Minute, Now: time.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	want := []time.Duration{1, 2, 4, 8, 10, 10, 10}
	for i, w := range want {
		if got := r.fail(time.Now(), io.EOF); got != w*time.Minute {
			t.Fatalf("failure %d: retry in %s, want %s", i+1, got, w*time.Minute)
		}
	}
	if st := r.Status(); st.Failures != len(want) || st.LastError != "EOF" {
		t.Fatalf("status %+v", st)
	}
	// The server's Retry-After is honoured up to the cap.
	r.st.Failures = 0
	if got := r.fail(time.Now(), &RetryLaterError{After: 5 * time.Minute}); got != 5*time.Minute {
		t.Fatalf("retry-after 5m: %s", got)
	}
	if got := r.fail(time.Now(), &RetryLaterError{After: time.Hour}); got != 10*time.Minute {
		t.Fatalf("retry-after 1h: %s, want the 10m cap", got)
	}
}
