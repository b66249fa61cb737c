package uplink_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"medagent/senml"
	"medagent/telemetry"
	"medagent/uplink"
	"medagent/uplink/mosquittotest"
	"medagent/uplink/uplinktest"
)

// TestTelemetryArrives publishes a backlog through a real mosquitto and
// checks what a subscriber gets: valid SenML with the right names, units
// and seq 1..N in order, alarms on their topic, the retained status, an
// undecodable record dropped and acked, and the in-flight window kept.
func TestTelemetryArrives(t *testing.T) {
	for _, f := range []senml.Format{senml.JSON, senml.CBOR} {
		t.Run(f.String(), func(t *testing.T) {
			p := writePKI(t)
			b := mosquittotest.Start(t, p.Dir)
			mon := mosquittotest.Subscribe(t, b, p.Dir, "medagent/v1/#", mosquittotest.MonitorOptions{})

			const n, window = 200, 4
			src := uplinktest.NewSource()
			for i := range n {
				src.Append(vitals(i))
				if i == 50 {
					src.AppendPayload(telemetry.ClassTelemetry, "vitals-bad", t0, []byte("not a pack"))
				}
				if i%40 == 0 {
					src.Append(alarm(i))
				}
			}
			o := options(p, b)
			o.Format, o.InFlight = f.String(), window
			u, err := uplink.New(o, src, testLog(t))
			if err != nil {
				t.Fatal(err)
			}
			stop := run(t, u)
			total := n + 1 + 5
			waitAcked(t, src, total, 20*time.Second)

			const topic = "medagent/v1/" + device + "/telemetry/vitals"
			msgs := mon.WaitFor(t, 10*time.Second, "vitals packs", countOn(topic, n))
			got := onTopic(msgs, topic)
			if len(got) != n {
				t.Errorf("%d messages on %s, want %d", len(got), topic, n)
			}
			want := make([]uint64, n)
			for i := range want {
				want[i] = uint64(i + 1)
			}
			if s := seqs(t, got, f); !slices.Equal(s, want) {
				t.Errorf("seqs = %v, want 1..%d in order", s, n)
			}
			r, err := senml.Decode(got[7].Payload, f)
			if err != nil {
				t.Fatal(err)
			}
			wantNames := []struct{ name, unit string }{
				{"MDC_ECG_HEART_RATE", "1/min"}, {"MDC_PULS_OXIM_SAT_O2", "%"},
				{"MDC_PULS_OXIM_PULS_RATE", "1/min"}, {"MDC_TEMP_BODY", "Cel"},
			}
			for i, w := range wantNames {
				e := r.Records[i]
				if e.Name != "urn:dev:sn:"+device+":"+w.name || e.Unit != w.unit {
					t.Errorf("record %d = %s [%s], want %s [%s]", i, e.Name, e.Unit, w.name, w.unit)
				}
			}
			if hr := *r.Records[0].Value; hr != 67 {
				t.Errorf("heart rate of pack 8 = %v, want 67", hr)
			}
			if at := r.Records[0].At(); !at.Equal(t0.Add(7 * time.Second)) {
				t.Errorf("time of pack 8 = %v", at)
			}
			alarms := onTopic(msgs, "medagent/v1/"+device+"/alarms/hr")
			if s := seqs(t, alarms, f); !slices.Equal(s, []uint64{1, 2, 3, 4, 5}) {
				t.Errorf("alarm seqs = %v", s)
			}
			if bad := onTopic(msgs, "medagent/v1/"+device+"/telemetry/vitals-bad"); len(bad) != 0 {
				t.Errorf("undecodable record was published: %d messages", len(bad))
			}
			status := onTopic(msgs, "medagent/v1/"+device+"/status")
			if len(status) == 0 || string(status[0].Payload) != "online" {
				t.Errorf("status messages = %+v, want online first", status)
			}

			st := u.Status()
			if !st.Connected || st.Connects != 1 || st.Acked != uint64(total-1) || st.Undecodable != 1 || st.InFlight != 0 || st.Published != uint64(total-1) {
				t.Errorf("Status = %+v", st)
			}
			ss := src.Stats()
			if ss.MaxOutstanding > window {
				t.Errorf("%d records outstanding at once, window is %d", ss.MaxOutstanding, window)
			}
			if ss.MaxOutstanding < 2 {
				t.Errorf("at most %d outstanding: the window was never used", ss.MaxOutstanding)
			}

			stop()
			mon.WaitFor(t, 5*time.Second, "offline status", func(m []mosquittotest.Message) bool {
				s := onTopic(m, "medagent/v1/"+device+"/status")
				return len(s) > 0 && string(s[len(s)-1].Payload) == "offline"
			})
			if st := u.Status(); st.Connected {
				t.Error("still connected after Run returned")
			}
			// The status is retained: a late subscriber sees offline.
			late := mosquittotest.Subscribe(t, b, p.Dir, "medagent/v1/"+device+"/status", mosquittotest.MonitorOptions{})
			m := late.WaitFor(t, 5*time.Second, "retained status", func(m []mosquittotest.Message) bool { return len(m) > 0 })
			if !m[0].Retained || string(m[0].Payload) != "offline" {
				t.Errorf("retained status = %+v, want retained offline", m[0])
			}
		})
	}
}

// TestSpoolErrorEndsSession: a failing spool read ends the session like a
// broken connection (logged, in Status), and after the backoff the uplink
// reconnects, rewinds and delivers everything.
func TestSpoolErrorEndsSession(t *testing.T) {
	p := writePKI(t)
	b := mosquittotest.Start(t, p.Dir)
	mon := mosquittotest.Subscribe(t, b, p.Dir, "medagent/v1/#", mosquittotest.MonitorOptions{})
	src := uplinktest.NewSource()
	for i := range 10 {
		src.Append(vitals(i))
	}
	u, err := uplink.New(options(p, b), src, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	run(t, u)
	waitAcked(t, src, 10, 10*time.Second)
	src.FailNext(errors.New("disk on fire"))
	for i := 10; i < 20; i++ {
		src.Append(vitals(i))
	}
	waitAcked(t, src, 20, 10*time.Second)
	const topic = "medagent/v1/" + device + "/telemetry/vitals"
	msgs := mon.WaitFor(t, 10*time.Second, "20 packs", countOn(topic, 20))
	want := make([]uint64, 20)
	for i := range want {
		want[i] = uint64(i + 1)
	}
	if s := seqs(t, onTopic(msgs, topic), senml.JSON); !slices.Equal(s, want) {
		t.Errorf("seqs = %v", s)
	}
	st := u.Status()
	if st.Connects != 2 || st.LastError == nil || !strings.Contains(st.LastError.Error(), "read spool: disk on fire") {
		t.Errorf("Status = %+v, want 2 connects and the spool error", st)
	}
	if ss := src.Stats(); ss.Rewinds != 1 {
		t.Errorf("%d rewinds, want 1", ss.Rewinds)
	}
}

// TestShutdownAcksOnlyDelivered cancels the uplink in the middle of a
// backlog: every record acked to the spool must have reached the broker
// (the ack follows the PUBACK), and Run must return nil.
func TestShutdownAcksOnlyDelivered(t *testing.T) {
	p := writePKI(t)
	b := mosquittotest.Start(t, p.Dir)
	mon := mosquittotest.Subscribe(t, b, p.Dir, "medagent/v1/#", mosquittotest.MonitorOptions{})
	src := uplinktest.NewSource()
	const n = 3000
	for i := range n {
		src.Append(vitals(i))
	}
	u, err := uplink.New(options(p, b), src, discard)
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, u)
	waitAcked(t, src, 200, 10*time.Second)
	stop()
	acked := src.Stats().Acked
	if acked >= n {
		t.Fatalf("all %d records were acked before the cancel took effect: raise n", n)
	}
	const topic = "medagent/v1/" + device + "/telemetry/vitals"
	msgs := mon.WaitFor(t, 10*time.Second, fmt.Sprintf("the %d acked records", acked), countOn(topic, acked))
	got := seqs(t, onTopic(msgs, topic), senml.JSON)
	for i := range acked {
		if got[i] != uint64(i+1) {
			t.Fatalf("message %d has seq %d, want %d", i, got[i], i+1)
		}
	}
	if st := u.Status(); st.Acked != uint64(acked) || st.Connected {
		t.Errorf("Status = %+v after stop, source acked %d", st, acked)
	}
	t.Logf("stopped after %d of %d records acked, %d messages received", acked, n, len(got))
}
