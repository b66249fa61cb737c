package alarm

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func newM(t testing.TB, mod func(*Config)) *Manager {
	t.Helper()
	cfg := Defaults()
	if mod != nil {
		mod(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// feed runs values once a second from..to (inclusive) and collects all
// transitions.
func feed(m *Manager, v Vital, from, to float64, value float64) []Transition {
	var out []Transition
	for s := from; s <= to; s++ {
		out = append(out, m.Update(at(s), v, value, true)...)
	}
	return out
}

// brief is a transition without the fields a test does not pin.
type brief struct {
	Event    Event
	Cond     Condition
	Priority Priority
	T        float64
}

func briefs(ts []Transition) []brief {
	var out []brief
	for _, tr := range ts {
		out = append(out, brief{tr.Event, tr.Condition, tr.Priority, tr.Time.Sub(t0).Seconds()})
	}
	return out
}

func TestOnsetDelay(t *testing.T) {
	for _, c := range []struct {
		name  string
		vital Vital
		vals  []float64 // one a second from t=0
		want  []brief
	}{
		{"hr brief high", HR, []float64{80, 130, 130, 130, 130, 80, 80, 80}, nil},
		{"hr high 5 s", HR, []float64{80, 130, 130, 130, 130, 130, 130}, []brief{{Raised, AboveHigh, Medium, 6}}},
		{"hr dips out and in", HR, []float64{130, 130, 130, 130, 119, 130, 130, 130, 130}, nil},
		{"hr low", HR, []float64{45, 45, 45, 45, 45, 45}, []brief{{Raised, BelowLow, Medium, 5}}},
		{"hr critical", HR, []float64{160, 160, 160, 160, 160, 160}, []brief{
			{Raised, AboveCriticalHigh, High, 5}, {Raised, AboveHigh, Medium, 5}}},
		{"spo2 brief dip 9 s", SpO2, []float64{97, 87, 87, 87, 87, 87, 87, 87, 87, 87, 97, 97}, nil},
		{"spo2 dip 10 s", SpO2, []float64{97, 87, 87, 87, 87, 87, 87, 87, 87, 87, 87, 87, 97}, []brief{{Raised, BelowLow, Medium, 11}}},
		{"temp high", Temp, []float64{39.5, 39.5, 39.5, 39.5, 39.5, 39.5, 39.5, 39.5, 39.5, 39.5, 39.5}, []brief{{Raised, AboveHigh, Medium, 10}}},
		{"temp at limit", Temp, []float64{39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39}, nil},
		{"pr high", PulseRate, []float64{125, 125, 125, 125, 125, 125}, []brief{{Raised, AboveHigh, Medium, 5}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := newM(t, nil)
			var got []Transition
			for i, v := range c.vals {
				got = append(got, m.Update(at(float64(i)), c.vital, v, true)...)
			}
			if d := cmp.Diff(c.want, briefs(got)); d != "" {
				t.Errorf("transitions (-want +got):\n%s", d)
			}
		})
	}
}

func TestRaisedFields(t *testing.T) {
	m := newM(t, nil)
	got := feed(m, HR, 0, 5, 131)
	if len(got) != 1 {
		t.Fatalf("got %d transitions, want 1: %+v", len(got), got)
	}
	want := Transition{Event: Raised, ID: 1, Kind: Physiological, Vital: HR, Source: "hr",
		Condition: AboveHigh, Priority: Medium, Value: 131, Limit: 120, Time: at(5)}
	if d := cmp.Diff(want, got[0]); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	act := m.Active()
	if len(act) != 1 || act[0].ID != 1 || !act[0].Present || act[0].Acknowledged || act[0].Value != 131 || !act[0].Since.Equal(at(5)) {
		t.Errorf("Active = %+v", act)
	}
}

func TestTickRaisesWithoutNewValue(t *testing.T) {
	m := newM(t, nil)
	m.Update(at(0), HR, 130, true)
	if got := m.Tick(at(4.9)); got != nil {
		t.Fatalf("raised before the onset delay: %+v", got)
	}
	got := m.Tick(at(5))
	if d := cmp.Diff([]brief{{Raised, AboveHigh, Medium, 5}}, briefs(got)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestHysteresis(t *testing.T) {
	m := newM(t, nil)
	// Hovering around the limit before a raise: nothing.
	var got []Transition
	for i := 0; i < 60; i++ {
		v := 89.9
		if i%2 == 1 {
			v = 90.1
		}
		got = append(got, m.Update(at(float64(i)), SpO2, v, true)...)
	}
	if got != nil {
		t.Fatalf("value hovering at the limit raised: %+v", briefs(got))
	}
	got = feed(m, SpO2, 60, 70, 88)
	if d := cmp.Diff([]brief{{Raised, BelowLow, Medium, 70}}, briefs(got)); d != "" {
		t.Fatalf("raise (-want +got):\n%s", d)
	}
	// Hovering across the limit but not past the 1 % margin: no clear.
	got = nil
	for i := 71; i < 200; i++ {
		v := 89.5
		if i%2 == 1 {
			v = 90.9
		}
		got = append(got, m.Update(at(float64(i)), SpO2, v, true)...)
	}
	if got != nil {
		t.Fatalf("value hovering at the limit chattered: %+v", briefs(got))
	}
	// Inside by the margin, but for less than the 5 s clear delay.
	got = feed(m, SpO2, 200, 203, 91)
	got = append(got, feed(m, SpO2, 204, 204, 90.5)...)
	if got != nil {
		t.Fatalf("cleared before the clear delay: %+v", briefs(got))
	}
	got = feed(m, SpO2, 205, 215, 95)
	if d := cmp.Diff([]brief{{Cleared, BelowLow, Medium, 210}}, briefs(got)); d != "" {
		t.Errorf("clear (-want +got):\n%s", d)
	}
	if a := m.Active(); len(a) != 0 {
		t.Errorf("Active after clear = %+v", a)
	}
}

func TestEscalation(t *testing.T) {
	m := newM(t, nil)
	got := feed(m, SpO2, 0, 10, 88)
	got = append(got, feed(m, SpO2, 11, 21, 83)...)
	got = append(got, feed(m, SpO2, 22, 40, 88)...)
	want := []brief{
		{Raised, BelowLow, Medium, 10},
		{Raised, BelowCriticalLow, High, 21},
		{Cleared, BelowCriticalLow, High, 27},
	}
	if d := cmp.Diff(want, briefs(got)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	a := m.Active()
	if len(a) != 1 || a[0].Condition != BelowLow || a[0].Priority != Medium || a[0].Value != 88 {
		t.Errorf("Active = %+v, want the medium low alarm only", a)
	}
	if got[0].ID == got[1].ID || got[1].ID != got[2].ID {
		t.Errorf("IDs: raised %d and %d, cleared %d", got[0].ID, got[1].ID, got[2].ID)
	}
}

func TestActiveOrder(t *testing.T) {
	m := newM(t, nil)
	feed(m, SpO2, 0, 10, 88)  // medium at 10
	feed(m, SpO2, 11, 21, 83) // high at 21
	m.Technical(at(22), "ecg", LeadOff, true)
	m.Tick(at(24))              // lead off, medium, at 24
	feed(m, Temp, 15, 25, 39.5) // medium at 25
	var got []string
	for _, a := range m.Active() {
		got = append(got, a.Priority.String()+" "+a.Kind.String()+" "+string(a.Condition)+" "+a.Source)
	}
	want := []string{
		"high physiological critical_low spo2",
		"medium physiological low spo2",
		"medium physiological high temp",
		"medium technical lead_off ecg",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestLatching(t *testing.T) {
	m := newM(t, func(c *Config) { c.HR.Latching = true; c.HR.ClearDelay = 5 * time.Second })
	got := feed(m, HR, 0, 5, 130)
	id := got[0].ID
	if got = feed(m, HR, 6, 30, 80); got != nil {
		t.Fatalf("latched alarm cleared without ack: %+v", briefs(got))
	}
	a := m.Active()
	if len(a) != 1 || a[0].ID != id || a[0].Present || a[0].Acknowledged {
		t.Fatalf("Active = %+v, want one latched (not present) alarm", a)
	}
	// The condition recurring does not raise a second alarm.
	if got = feed(m, HR, 31, 40, 130); got != nil {
		t.Fatalf("recurrence of a latched alarm: %+v", briefs(got))
	}
	feed(m, HR, 41, 50, 80)
	got, err := m.Ack(at(51), id)
	if err != nil {
		t.Fatal(err)
	}
	want := []brief{{Acknowledged, AboveHigh, Medium, 51}, {Cleared, AboveHigh, Medium, 51}}
	if d := cmp.Diff(want, briefs(got)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if a := m.Active(); len(a) != 0 {
		t.Errorf("Active after ack = %+v", a)
	}
}

func TestLatchingAckWhilePresent(t *testing.T) {
	m := newM(t, func(c *Config) { c.HR.Latching = true })
	id := feed(m, HR, 0, 5, 130)[0].ID
	got, err := m.Ack(at(6), id)
	if err != nil || len(got) != 1 || got[0].Event != Acknowledged {
		t.Fatalf("Ack = %+v, %v", got, err)
	}
	// Acknowledged before the end: it clears with the condition.
	got = feed(m, HR, 7, 30, 80)
	clear := 7 + Defaults().HR.ClearDelay.Seconds()
	if d := cmp.Diff([]brief{{Cleared, AboveHigh, Medium, clear}}, briefs(got)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestAck(t *testing.T) {
	m := newM(t, func(c *Config) { c.HR.ClearDelay = 5 * time.Second })
	id := feed(m, HR, 0, 5, 130)[0].ID
	got, err := m.Ack(at(6), id)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]brief{{Acknowledged, AboveHigh, Medium, 6}}, briefs(got)); d != "" || got[0].ID != id {
		t.Errorf("(-want +got):\n%s", d)
	}
	a := m.Active()
	if len(a) != 1 || !a[0].Acknowledged || !a[0].Present {
		t.Errorf("Active after ack = %+v, want one acknowledged and present", a)
	}
	if got, err = m.Ack(at(7), id); err != nil || got != nil {
		t.Errorf("second ack = %+v, %v; want nothing", got, err)
	}
	got = feed(m, HR, 8, 25, 80)
	clear := 8 + 5.0
	if d := cmp.Diff([]brief{{Cleared, AboveHigh, Medium, clear}}, briefs(got)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	for _, bad := range []ID{0, id, 99} {
		if _, err := m.Ack(at(26), bad); !errors.Is(err, ErrUnknownID) {
			t.Errorf("Ack(%d) = %v, want ErrUnknownID", bad, err)
		}
	}
	// A new raise gets a new ID, not acknowledged.
	got = feed(m, HR, 30, 35, 130)
	if len(got) != 1 || got[0].ID == id {
		t.Errorf("re-raise = %+v", got)
	}
	if a := m.Active(); len(a) != 1 || a[0].Acknowledged {
		t.Errorf("Active = %+v", a)
	}
}

func TestInvalidValues(t *testing.T) {
	m := newM(t, nil)
	// Invalid values cancel a pending alarm.
	m.Update(at(0), HR, 130, true)
	m.Update(at(3), HR, 0, false)
	if got := feed(m, HR, 4, 8, 130); got != nil {
		t.Errorf("pending alarm survived an invalid value: %+v", briefs(got))
	}
	got := feed(m, HR, 9, 9, 130)
	if d := cmp.Diff([]brief{{Raised, AboveHigh, Medium, 9}}, briefs(got)); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
	// Invalid and NaN values never clear an active alarm, but do not raise
	// no_data while they stay under stale_after.
	for s := 10.0; s < 19; s++ {
		if got := m.Update(at(s), HR, 80, false); got != nil {
			t.Fatalf("t=%g: %+v", s, briefs(got))
		}
		if got := m.Update(at(s+0.5), HR, nanf(), true); got != nil {
			t.Fatalf("t=%g NaN: %+v", s, briefs(got))
		}
	}
	if a := m.Active(); len(a) != 1 || a[0].Condition != AboveHigh {
		t.Errorf("Active = %+v", a)
	}
}

func TestStaleData(t *testing.T) {
	m := newM(t, nil)
	if got := m.Tick(at(100)); got != nil {
		t.Fatalf("no_data for a vital never seen: %+v", got)
	}
	feed(m, HR, 100, 105, 70)
	if got := m.Tick(at(114.9)); got != nil {
		t.Fatalf("no_data early: %+v", got)
	}
	got := m.Tick(at(115))
	want := []Transition{{Event: Raised, ID: 1, Kind: Technical, Vital: HR, Source: "hr",
		Condition: NoData, Priority: Medium, Time: at(115)}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
	got = m.Update(at(120), HR, 70, true)
	if d := cmp.Diff([]brief{{Cleared, NoData, Medium, 120}}, briefs(got)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestStaleHoldsLimitAlarms(t *testing.T) {
	m := newM(t, nil)
	feed(m, HR, 0, 5, 130)
	m.Update(at(6), HR, 80, true) // clearing starts
	got := m.Tick(at(30))
	// The data went stale before the clear delay ran out: no clear.
	if d := cmp.Diff([]brief{{Raised, NoData, Medium, 30}}, briefs(got)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestTechnical(t *testing.T) {
	m := newM(t, nil)
	// A probe-off shorter than its 2 s onset delay raises nothing.
	var got []Transition
	got = append(got, m.Technical(at(0), "ppg", ProbeOff, true)...)
	got = append(got, m.Tick(at(1))...)
	got = append(got, m.Technical(at(1.5), "ppg", ProbeOff, false)...)
	got = append(got, m.Tick(at(5))...)
	if got != nil {
		t.Fatalf("brief probe off: %+v", briefs(got))
	}
	// A physiological alarm and technical ones side by side.
	phys := feed(m, HR, 10, 15, 30)
	got = m.Technical(at(16), "ppg", ProbeOff, true)
	got = append(got, m.Technical(at(16), "ecg", LeadOff, true)...)
	got = append(got, m.Technical(at(16), "temp", SensorFault, true)...)
	got = append(got, m.Tick(at(18))...)
	want := []brief{{Raised, SensorFault, Medium, 16}, {Raised, ProbeOff, Medium, 18}, {Raised, LeadOff, Medium, 18}}
	if d := cmp.Diff(want, briefs(got)); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
	for _, tr := range got {
		if tr.Kind != Technical || tr.Vital != "" || tr.Value != 0 || tr.Limit != 0 {
			t.Errorf("technical transition %+v", tr)
		}
	}
	if len(phys) != 2 || phys[0].Kind != Physiological || phys[0].Priority != High || phys[1].Priority != Medium {
		t.Fatalf("physiological = %+v", phys)
	}
	// Acknowledging or clearing technical alarms leaves the physiological
	// ones alone, and the other way round.
	if _, err := m.Ack(at(19), got[1].ID); err != nil {
		t.Fatal(err)
	}
	cl := m.Technical(at(20), "ppg", ProbeOff, false)
	cl = append(cl, m.Tick(at(21))...)
	if d := cmp.Diff([]brief{{Cleared, ProbeOff, Medium, 21}}, briefs(cl)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	cl = feed(m, HR, 22, 22+Defaults().HR.ClearDelay.Seconds()+1, 70)
	for _, tr := range cl {
		if tr.Kind != Physiological {
			t.Errorf("clearing HR touched %+v", tr)
		}
	}
	var kinds []string
	for _, a := range m.Active() {
		kinds = append(kinds, a.Kind.String()+" "+string(a.Condition))
	}
	if d := cmp.Diff([]string{"technical sensor_fault", "technical lead_off"}, kinds); d != "" {
		t.Errorf("Active (-want +got):\n%s", d)
	}
	// Poor signal is low priority by default.
	m.Technical(at(60), "ppg", PoorSignal, true)
	if got := m.Tick(at(70)); len(got) != 1 || got[0].Priority != Low || got[0].Condition != PoorSignal {
		t.Errorf("poor signal = %+v", got)
	}
}

func TestDisabledVital(t *testing.T) {
	m := newM(t, func(c *Config) { c.Temp.Enabled = false })
	if got := feed(m, Temp, 0, 100, 42); got != nil {
		t.Errorf("disabled vital raised %+v", briefs(got))
	}
	if got := m.Tick(at(1000)); got != nil {
		t.Errorf("disabled vital went stale: %+v", briefs(got))
	}
	if got := feed(m, Vital("bp"), 0, 100, 500); got != nil {
		t.Errorf("unknown vital raised %+v", got)
	}
}

func TestOnsetZero(t *testing.T) {
	m := newM(t, func(c *Config) { c.HR.OnsetDelay = 0; c.HR.ClearDelay = 0; c.HR.Hysteresis = 2 })
	got := m.Update(at(0), HR, 121, true)
	got = append(got, m.Update(at(1), HR, 119, true)...) // inside, not by the margin
	got = append(got, m.Update(at(2), HR, 118, true)...)
	want := []brief{{Raised, AboveHigh, Medium, 0}, {Cleared, AboveHigh, Medium, 2}}
	if d := cmp.Diff(want, briefs(got)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestNoAllocsSteadyState(t *testing.T) {
	m := newM(t, nil)
	feed(m, HR, 0, 10, 70)
	s := 11.0
	allocs := testing.AllocsPerRun(1000, func() {
		m.Update(at(s), HR, 70, true)
		m.Tick(at(s))
		s++
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per Update without transitions, want 0", allocs)
	}
}

// TestTransitionJSON: transitions are published as JSON with names, not
// numbers, for event, kind and priority.
func TestTransitionJSON(t *testing.T) {
	tr := Transition{Event: Raised, ID: 7, Kind: Physiological, Vital: SpO2, Source: "spo2",
		Condition: BelowCriticalLow, Priority: High, Value: 83, Limit: 85, Time: at(0)}
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Event":"raised","ID":7,"Kind":"physiological","Vital":"spo2","Source":"spo2",` +
		`"Condition":"critical_low","Priority":"high","Value":83,"Limit":85,"Time":"2026-01-02T03:04:05Z"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}
