package remote

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"medagent/handoff"
)

type statusLog struct {
	mu     sync.Mutex
	writes []handoff.UplinkStatus
	fail   bool
}

func (l *statusLog) WriteUplinkStatus(s handoff.UplinkStatus) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail {
		return errors.New("disk full")
	}
	l.writes = append(l.writes, s)
	return nil
}

func (l *statusLog) get() []handoff.UplinkStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]handoff.UplinkStatus(nil), l.writes...)
}

// TestReportUplink: the broker state is written at once, at every change
// (with Since at the change of Connected), and otherwise once per refresh
// interval only (the data partition is flash).
func TestReportUplink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		st := handoff.UplinkStatus{Broker: "tls://b:8883", Waiting: "dial: refused"}
		state := func() handoff.UplinkStatus { mu.Lock(); defer mu.Unlock(); return st }
		set := func(f func(s *handoff.UplinkStatus)) { mu.Lock(); f(&st); mu.Unlock() }
		w := &statusLog{}
		start := time.Now()
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- ReportUplink(ctx, w, state, time.Now, slog.New(slog.DiscardHandler)) }()

		synctest.Wait()
		if got := w.get(); len(got) != 1 || got[0].Connected || !got[0].Since.Equal(start) || got[0].Waiting != "dial: refused" {
			t.Fatalf("first write %+v", got)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if n := len(w.get()); n != 1 {
			t.Fatalf("%d writes without a change", n)
		}
		set(func(s *handoff.UplinkStatus) { s.Connected, s.Waiting = true, "" })
		time.Sleep(statusPoll)
		synctest.Wait()
		got := w.get()
		if len(got) != 2 || !got[1].Connected || !got[1].Since.Equal(start.Add(10*time.Second+statusPoll)) {
			t.Fatalf("after connecting: %+v", got)
		}
		connected := got[1].Since
		time.Sleep(statusRefresh)
		synctest.Wait()
		got = w.get()
		if len(got) != 3 || !got[2].Since.Equal(connected) || !got[2].Updated.After(got[1].Updated) {
			t.Fatalf("refresh: %+v", got)
		}
		// A failed write is logged; the next refresh writes again.
		w.mu.Lock()
		w.fail = true
		w.mu.Unlock()
		set(func(s *handoff.UplinkStatus) { s.Security = "certificate not yet valid" })
		time.Sleep(statusPoll)
		synctest.Wait()
		w.mu.Lock()
		w.fail = false
		w.mu.Unlock()
		time.Sleep(statusRefresh)
		synctest.Wait()
		if got := w.get(); len(got) != 4 || got[3].Security != "certificate not yet valid" {
			t.Fatalf("after a failed write: %+v", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
