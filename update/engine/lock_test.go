package engine

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestClinicalLock(t *testing.T) {
	for _, tc := range []struct {
		name    string
		release func(e *Engine, monitoring *atomic.Bool)
		window  *Window
		now     time.Time
		reason  string
	}{
		{name: "monitoring ends", reason: "patient monitored",
			release: func(e *Engine, m *atomic.Bool) { m.Store(false) }},
		{name: "technician forces", reason: "patient monitored",
			release: func(e *Engine, m *atomic.Bool) { e.ForceReboot() }},
		{name: "outside window, forced", reason: "outside maintenance window",
			window: &Window{Start: 2 * time.Hour, End: 4 * time.Hour}, now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC),
			release: func(e *Engine, m *atomic.Bool) { e.ForceReboot() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			var monitoring atomic.Bool
			monitoring.Store(tc.window == nil)
			var reboots atomic.Int32
			e := w.engine(func(o *Options) {
				o.Monitoring = monitoring.Load
				o.PollInterval = 10 * time.Millisecond
				o.Reboot = func(context.Context) error { reboots.Add(1); return nil }
				o.Window = tc.window
				if !tc.now.IsZero() {
					o.Now = func() time.Time { return tc.now }
				}
			})
			done := make(chan error, 1)
			go func() { done <- e.Install(context.Background(), w.src()) }()
			waitFor(t, "reboot pending", func() bool { return e.Status().RebootPending })
			st := e.Status()
			if st.State != StateRebootPending || st.PendingReason != tc.reason || st.JournalState != StateReboot {
				t.Fatalf("status %+v", st)
			}
			time.Sleep(50 * time.Millisecond) // several polls
			if reboots.Load() != 0 {
				t.Fatal("rebooted while held back")
			}
			tc.release(e, &monitoring)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if reboots.Load() != 1 || e.Status().RebootPending {
				t.Fatalf("reboots %d, status %+v", reboots.Load(), e.Status())
			}
		})
	}
}

func TestWindow(t *testing.T) {
	day := func(h, m int) time.Time { return time.Date(2026, 3, 1, h, m, 0, 0, time.UTC) }
	night := Window{Start: 22 * time.Hour, End: 5 * time.Hour}
	morning := Window{Start: 2 * time.Hour, End: 4 * time.Hour}
	for _, tc := range []struct {
		w    Window
		t    time.Time
		want bool
	}{
		{morning, day(3, 0), true}, {morning, day(4, 0), false}, {morning, day(1, 59), false},
		{night, day(23, 0), true}, {night, day(4, 59), true}, {night, day(12, 0), false},
	} {
		if got := tc.w.Contains(tc.t); got != tc.want {
			t.Errorf("%+v.Contains(%s) = %v", tc.w, tc.t.Format("15:04"), got)
		}
	}
}

func TestPatientMonitored(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var last time.Time
	alarm := false
	m := PatientMonitored(func() time.Time { return last }, func() bool { return alarm }, 30*time.Second, func() time.Time { return now })
	for _, tc := range []struct {
		last  time.Time
		alarm bool
		want  bool
	}{
		{time.Time{}, false, false},
		{now.Add(-10 * time.Second), false, true},
		{now.Add(-30 * time.Second), false, false},
		{now.Add(-time.Hour), true, true},
	} {
		last, alarm = tc.last, tc.alarm
		if got := m(); got != tc.want {
			t.Errorf("last %v alarm %v: %v, want %v", tc.last, tc.alarm, got, tc.want)
		}
	}
}
