package uplink_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"medagent/telemetry"
	"medagent/uplink"
	"medagent/uplink/mosquittotest"
	"medagent/uplink/uplinktest"
)

// A device certificate not valid at the device's clock (a board without
// RTC boots in 1970) does not stop the uplink: New succeeds, it does not
// connect and says why in Status, and once the clock is right it connects
// and delivers what waited.
func TestCertificateNotYetValidWaits(t *testing.T) {
	p := writePKI(t)
	b := mosquittotest.Start(t, p.Dir)
	mon := mosquittotest.Subscribe(t, b, p.Dir, "medagent/v1/+/telemetry/#", mosquittotest.MonitorOptions{})
	var right atomic.Bool
	o := options(p, b)
	o.Now = func() time.Time {
		if right.Load() {
			return time.Now()
		}
		return time.Unix(3600, 0) // 1970-01-01T01:00Z
	}
	src := uplinktest.NewSource()
	u, err := uplink.New(o, src, testLog(t))
	if err != nil {
		t.Fatalf("New with a certificate not yet valid at the clock: %v", err)
	}
	if w := u.Status().Waiting; !strings.Contains(w, "not valid before") {
		t.Errorf("Status.Waiting %q does not say why", w)
	}
	src.Append(telemetry.Pack{Stream: "temp", Class: telemetry.ClassTelemetry, Time: time.Unix(3600, 0),
		Records: []telemetry.Record{{Name: "MDC_TEMP_BODY", Unit: "Cel", Value: telemetry.V(36.9)}}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- u.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for u.Status().Attempts < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d attempts in 10 s", u.Status().Attempts)
		}
		time.Sleep(20 * time.Millisecond)
	}
	st := u.Status()
	if st.Connects != 0 || st.LastError == nil || !strings.Contains(st.LastError.Error(), "not valid before") {
		t.Fatalf("with the clock in 1970: connects %d, last error %v", st.Connects, st.LastError)
	}
	right.Store(true)
	mon.WaitFor(t, 20*time.Second, "the spooled pack", func(ms []mosquittotest.Message) bool { return len(ms) >= 1 })
	if w := u.Status().Waiting; w != "" {
		t.Errorf("still waiting after the clock is right: %q", w)
	}
}
