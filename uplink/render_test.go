package uplink

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"medagent/senml"
	"medagent/spool"
	"medagent/telemetry"
	"medagent/uplink/uplinktest"
)

func TestRender(t *testing.T) {
	p := devPKI(t)
	u, err := New(devOptions(p, "tls://127.0.0.1:8883"), uplinktest.NewSource(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	pack := telemetry.Pack{Stream: "spo2", Class: telemetry.ClassAlarm, Time: time.Unix(1795928400, 0), Records: []telemetry.Record{
		{Name: "MDC_PULS_OXIM_SAT_O2", Unit: "%", Value: telemetry.V(84)},
	}}
	good, err := pack.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	other := pack
	other.Stream = "ecg"
	otherB, _ := other.Marshal()
	rec := spool.Record{Class: telemetry.ClassAlarm, Stream: "spo2", Seq: 7, Payload: good}

	topic, payload, err := u.render(rec)
	if err != nil {
		t.Fatal(err)
	}
	if topic != "medagent/v1/MA-0001/alarms/spo2" {
		t.Errorf("topic = %q", topic)
	}
	r, err := senml.Decode(payload, senml.JSON)
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq != 7 || r.Records[0].Name != "urn:dev:sn:MA-0001:MDC_PULS_OXIM_SAT_O2" || *r.Records[0].Value != 84 {
		t.Errorf("payload = %s", payload)
	}

	bad := []struct {
		name string
		rec  spool.Record
		want string
	}{
		{"garbage payload", spool.Record{Class: telemetry.ClassAlarm, Stream: "spo2", Payload: []byte{0xff, 0x00}}, "decode pack"},
		{"stream mismatch", spool.Record{Class: telemetry.ClassAlarm, Stream: "spo2", Payload: otherB}, "pack is for"},
		{"class mismatch", spool.Record{Class: telemetry.ClassEvent, Stream: "spo2", Payload: good}, "pack is for"},
		{"wildcard stream", spool.Record{Class: telemetry.ClassAlarm, Stream: "spo2/#", Payload: good}, "stream name"},
		{"unknown class", spool.Record{Class: 9, Stream: "spo2", Payload: good}, "unknown class"},
	}
	for _, c := range bad {
		if _, _, err := u.render(c.rec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}

// Results of signed commands, spooled by acquire, go out as their JSON on
// cmd-result; a result record that is not one JSON value is undecodable.
func TestRenderCommandResult(t *testing.T) {
	p := devPKI(t)
	u, err := New(devOptions(p, "tls://127.0.0.1:8883"), uplinktest.NewSource(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	res := `{"device":"MA-0001","nonce":"AAAA","name":"diagnostics","status":"done","at":"2026-12-03T14:00:00Z"}`
	mk := func(s string, class telemetry.Class) spool.Record {
		pk := telemetry.Pack{Stream: telemetry.StreamCommandResult, Class: class, Time: time.Unix(1795928400, 0),
			Records: []telemetry.Record{{Name: telemetry.StreamCommandResult, String: s}}}
		b, _ := pk.Marshal()
		return spool.Record{Class: class, Stream: telemetry.StreamCommandResult, Seq: 3, Payload: b}
	}
	topic, payload, err := u.render(mk(res, telemetry.ClassEvent))
	if err != nil {
		t.Fatal(err)
	}
	if topic != "medagent/v1/MA-0001/cmd-result" || string(payload) != res {
		t.Errorf("rendered %s %s", topic, payload)
	}
	if _, _, err := u.render(mk(`{"status":`, telemetry.ClassEvent)); err == nil {
		t.Error("a broken result rendered")
	}
	if _, _, err := u.render(mk(res, telemetry.ClassAlarm)); err == nil {
		t.Error("an alarm pack named cmd-result rendered as a result")
	}
}
