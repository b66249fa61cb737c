package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		calls := 0
		check := Poll("sensors", func() error {
			if calls++; calls < 4 {
				return errors.New("ecg not up")
			}
			return nil
		})
		if err := check(t.Context()); err != nil || calls != 4 || time.Since(start) != 3*PollEvery {
			t.Fatalf("err %v after %d calls and %v", err, calls, time.Since(start))
		}
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		err := Poll("broker", func() error { return errors.New("not connected") })(ctx)
		if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "broker") || !strings.Contains(err.Error(), "not connected") {
			t.Fatalf("timeout: %v", err)
		}
	})
}
