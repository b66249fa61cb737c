package uplink_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"medagent/senml"
	"medagent/spool"
	"medagent/telemetry"
	"medagent/uplink"
	"medagent/uplink/mosquittotest"
)

func openSpool(t testing.TB) (*spool.Writer, *spool.Reader) {
	t.Helper()
	o := spool.Options{Dir: t.TempDir()}
	w, err := spool.OpenWriter(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	r, err := spool.OpenReader(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return w, r
}

func appendPack(t testing.TB, w *spool.Writer, p telemetry.Pack) uint64 {
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	seq, err := w.Append(context.Background(), p.Class, p.Stream, p.Time, b)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// TestRealSpool drains a backlog from the real spool through mosquitto:
// alarms go first, every stream arrives complete and in order, and after
// a clean stop and a reopen of the reader nothing acked is sent again.
func TestRealSpool(t *testing.T) {
	p := writePKI(t)
	b := mosquittotest.Start(t, p.Dir)
	mon := mosquittotest.Subscribe(t, b, p.Dir, "medagent/v1/#", mosquittotest.MonitorOptions{})
	dir := t.TempDir()
	w, err := spool.OpenWriter(spool.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	const nTel, nAlarm = 100, 10
	for i := range nTel {
		appendPack(t, w, vitals(i))
		if i%10 == 0 {
			appendPack(t, w, alarm(i))
		}
	}
	r, err := spool.OpenReader(spool.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	u, err := uplink.New(options(p, b), r, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, u)
	const tel = "medagent/v1/" + device + "/telemetry/vitals"
	const alm = "medagent/v1/" + device + "/alarms/hr"
	mon.WaitFor(t, 20*time.Second, "the backlog", countOn(tel, nTel))
	msgs := mon.WaitFor(t, 5*time.Second, "alarms", countOn(alm, nAlarm))
	stop()
	r.Close()

	want := func(n int) []uint64 {
		s := make([]uint64, n)
		for i := range s {
			s[i] = uint64(i + 1)
		}
		return s
	}
	if s := seqs(t, onTopic(msgs, tel), senml.JSON); !slices.Equal(s, want(nTel)) {
		t.Errorf("telemetry seqs = %v", s)
	}
	if s := seqs(t, onTopic(msgs, alm), senml.JSON); !slices.Equal(s, want(nAlarm)) {
		t.Errorf("alarm seqs = %v", s)
	}
	lastAlarm, firstTel := -1, -1
	for i, m := range msgs {
		if m.Topic == alm {
			lastAlarm = i
		}
		if m.Topic == tel && firstTel < 0 {
			firstTel = i
		}
	}
	if lastAlarm > firstTel {
		t.Errorf("alarm at position %d after the first telemetry at %d: alarms must go first", lastAlarm, firstTel)
	}
	if st := u.Status(); st.Acked != nTel+nAlarm {
		t.Errorf("acked %d, want %d", st.Acked, nTel+nAlarm)
	}

	// Reopen: only the new records go.
	appendPack(t, w, vitals(nTel))
	r2, err := spool.OpenReader(spool.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	u2, err := uplink.New(options(p, b), r2, discard)
	if err != nil {
		t.Fatal(err)
	}
	run(t, u2)
	mon.WaitFor(t, 10*time.Second, "the new record", countOn(tel, nTel+1))
	// Everything the second uplink sends is acked and the monitor has all
	// the broker routed before its own marker: nothing more can come.
	waitFor(t, "the new record acked", 10*time.Second, func() bool { st := u2.Status(); return st.Acked >= 1 && st.InFlight == 0 })
	mon.Sync(t, "medagent/v1/uplink-test-sync/cmd/sync")
	msgs = mon.Messages()
	if s := seqs(t, onTopic(msgs, tel), senml.JSON); !slices.Equal(s, want(nTel+1)) {
		t.Errorf("after reopen, telemetry seqs = %v, want 1..%d once each", s[nTel-3:], nTel+1)
	}
}
