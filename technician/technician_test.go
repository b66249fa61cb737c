package technician

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"medagent/config"
	"medagent/control"
	"medagent/edge/alarm"
	"medagent/telemetry"
	"medagent/uplink"
)

// fakeDesk is acquisition with one active technical alarm on "ppg".
type fakeDesk struct{ acked []alarm.ID }

func (f *fakeDesk) Latest() map[string]telemetry.Pack {
	v := 72.0
	return map[string]telemetry.Pack{"ecg": {Stream: "ecg", Time: time.Unix(100, 0), Records: []telemetry.Record{{Name: "hr", Value: &v}}}}
}

func (f *fakeDesk) Alarms() []alarm.Alarm {
	return []alarm.Alarm{{ID: 7, Kind: alarm.Technical, Source: "ppg"}}
}

func (f *fakeDesk) Ack(_ context.Context, id alarm.ID) error {
	f.acked = append(f.acked, id)
	return nil
}

type fakeBroker struct{}

func (fakeBroker) Status() uplink.Status { return uplink.Status{LastError: errors.New("refused")} }

func newService(t *testing.T, p Ports) *Service {
	t.Helper()
	p.Config = config.Default()
	p.Socket = filepath.Join(t.TempDir(), "control.sock")
	p.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Each port answers for its part; a part the process does not run is
// reported as such, never as a failure of this process.
func TestPortsAnswerForTheirParts(t *testing.T) {
	ctx := context.Background()
	desk := &fakeDesk{}
	acq := newService(t, Ports{Role: "acquire", Sensors: desk})
	got := map[string]string{}
	for _, s := range acq.sensorList(ctx) {
		got[s.Name] = s.State
	}
	if want := map[string]string{"ecg": "ok", "ppg": "alarm", "temp": "starting"}; !maps.Equal(got, want) {
		t.Errorf("sensor states %v, want %v", got, want)
	}
	if err := acq.ack(ctx, 7); err != nil || len(desk.acked) != 1 || desk.acked[0] != 7 {
		t.Errorf("ack 7: %v, acked %v", err, desk.acked)
	}
	if err := acq.ack(ctx, 8); !errors.Is(err, control.ErrNoSuchAlarm) {
		t.Errorf("ack of an unknown alarm: %v, want ErrNoSuchAlarm", err)
	}
	if _, err := acq.spoolStats(ctx); err == nil {
		t.Error("spool stats without a spool port answered")
	}

	up := newService(t, Ports{Role: "uplink", Broker: fakeBroker{}})
	for _, s := range up.sensorList(ctx) {
		if s.State != "remote" {
			t.Errorf("uplink role: sensor %s state %q, want remote", s.Name, s.State)
		}
	}
	if err := up.ack(ctx, 7); err == nil {
		t.Error("the uplink role acknowledged an alarm")
	}
	st := up.selftest(ctx)
	for _, c := range st.Checks {
		if c.Name == "broker" && (c.OK || c.Detail != "not connected to "+up.Config.MQTT.Broker+": refused") {
			t.Errorf("broker check %+v, want failed with the last error", c)
		}
	}
	if st.OK {
		t.Error("selftest OK with the broker down and no spool")
	}
}
