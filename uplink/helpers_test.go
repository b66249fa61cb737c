package uplink_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"medagent/senml"
	"medagent/telemetry"
	"medagent/tlsconf"
	"medagent/tlsconf/tlstest"
	"medagent/uplink"
	"medagent/uplink/mosquittotest"
	"medagent/uplink/uplinktest"
)

const device = "MA-0001"

var t0 = time.Date(2026, 11, 29, 5, 0, 0, 0, time.UTC)

func writePKI(t testing.TB) *tlstest.PKI {
	t.Helper()
	p, err := tlstest.WritePKI(filepath.Join(t.TempDir(), "pki"), device)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// options are the device's uplink options for broker b (none if nil).
func options(p *tlstest.PKI, b *mosquittotest.Broker) uplink.Options {
	var url string
	if b != nil {
		url = b.URL
	}
	return uplink.Options{
		Broker:     url,
		DeviceID:   p.DeviceID,
		TLS:        tlsconf.Options{CAFile: p.CA.CertFile, CertFile: p.Device.CertFile, KeyFile: p.Device.KeyFile},
		BackoffMin: 50 * time.Millisecond,
		BackoffMax: 200 * time.Millisecond,
	}
}

// vitals is the i-th 1 Hz vitals pack of the demo.
func vitals(i int) telemetry.Pack {
	return telemetry.Pack{Stream: "vitals", Class: telemetry.ClassTelemetry, Time: t0.Add(time.Duration(i) * time.Second), Records: []telemetry.Record{
		{Name: "MDC_ECG_HEART_RATE", Unit: "1/min", Value: telemetry.V(60 + float64(i%40))},
		{Name: "MDC_PULS_OXIM_SAT_O2", Unit: "%", Value: telemetry.V(97)},
		{Name: "MDC_PULS_OXIM_PULS_RATE", Unit: "1/min", Value: telemetry.V(61)},
		{Name: "MDC_TEMP_BODY", Unit: "Cel", Value: telemetry.V(36.8), Offset: 0.5},
	}}
}

func alarm(i int) telemetry.Pack {
	return telemetry.Pack{Stream: "hr", Class: telemetry.ClassAlarm, Time: t0.Add(time.Duration(i) * time.Second), Records: []telemetry.Record{
		{Name: "MDC_EVT_ALARM_ACTIVE", Bool: telemetry.B(i%2 == 0)},
		{Name: "MDC_ECG_HEART_RATE", Unit: "1/min", Value: telemetry.V(141)},
	}}
}

// testLog sends the uplink's log to the test log until the test ends.
func testLog(t testing.TB) *slog.Logger {
	w := &tlogWriter{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tlogWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *tlogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// run starts u.Run and returns a stop function that cancels it and checks
// it returned nil.
func run(t testing.TB, u *uplink.Uplink) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- u.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v after cancel, want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Run did not return 10 s after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitAcked(t testing.TB, src *uplinktest.Source, n int, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := src.WaitAcked(ctx, n); err != nil {
		t.Fatal(err)
	}
}

// onTopic returns the messages on topic.
func onTopic(msgs []mosquittotest.Message, topic string) []mosquittotest.Message {
	var out []mosquittotest.Message
	for _, m := range msgs {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

func countOn(topic string, n int) func([]mosquittotest.Message) bool {
	return func(m []mosquittotest.Message) bool { return len(onTopic(m, topic)) >= n }
}

// seqs decodes the SenML payloads and returns their seq numbers.
func seqs(t testing.TB, msgs []mosquittotest.Message, f senml.Format) []uint64 {
	t.Helper()
	var out []uint64
	for _, m := range msgs {
		r, err := senml.Decode(m.Payload, f)
		if err != nil {
			t.Fatalf("%s: payload is not valid SenML: %v", m.Topic, err)
		}
		if !r.HasSeq {
			t.Fatalf("%s: no seq", m.Topic)
		}
		out = append(out, r.Seq)
	}
	return out
}
