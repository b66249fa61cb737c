package alarm

import (
	"errors"
	"testing"
	"time"
)

// FuzzManager drives the manager with an arbitrary sequence of inputs and
// checks the invariants of its output. Each 4-byte record is: operation,
// time step in 100 ms, and two bytes for the value or choice.
func FuzzManager(f *testing.F) {
	rec := func(op, dt, a, b byte) []byte { return []byte{op, dt, a, b} }
	var esc []byte // SpO2 88, 83, 88 as in TestEscalation
	for _, v := range []byte{88, 83, 88} {
		for i := 0; i < 12; i++ {
			esc = append(esc, rec(0, 10, 2, v)...)
		}
	}
	f.Add(esc)
	var latch []byte // HR high, back, ack
	for i := 0; i < 8; i++ {
		latch = append(latch, rec(0, 10, 0, 130)...)
	}
	for i := 0; i < 8; i++ {
		latch = append(latch, rec(0, 10, 0, 80)...)
	}
	latch = append(latch, rec(3, 1, 1, 0)...)
	f.Add(latch)
	var tech []byte // probe off, tick, lead off, clear, stale
	tech = append(tech, rec(1, 1, 1, 1)...)
	tech = append(tech, rec(2, 30, 0, 0)...)
	tech = append(tech, rec(1, 1, 0, 1)...)
	tech = append(tech, rec(1, 1, 1, 0)...)
	tech = append(tech, rec(0, 1, 1, 70)...)
	tech = append(tech, rec(2, 200, 0, 0)...)
	f.Add(tech)
	var rhythm []byte // asystole, pause, hold, beat-to-beat values, noise
	rhythm = append(rhythm, rec(4, 10, 0, 1)...)
	rhythm = append(rhythm, rec(4, 30, 1, 1)...)
	rhythm = append(rhythm, rec(4, 10, 0, 0)...)
	rhythm = append(rhythm, rec(4, 10, 1, 2)...)
	rhythm = append(rhythm, rec(5, 5, 0, 0)...)
	rhythm = append(rhythm, rec(6, 3, 0, 170)...)
	rhythm = append(rhythm, rec(6, 3, 0, 170)...)
	rhythm = append(rhythm, rec(0, 10, 0, 170)...)
	rhythm = append(rhythm, rec(1, 1, 0, 11)...)
	rhythm = append(rhythm, rec(2, 60, 0, 0)...)
	f.Add(rhythm)
	f.Add([]byte{})

	vitals := []Vital{HR, PulseRate, SpO2, Temp, "bp"}
	conds := []Condition{LeadOff, ProbeOff, SensorFault, PoorSignal, NoData, Noise, "weird"}
	rhythms := []Condition{Asystole, Pause, BelowLow}
	sources := []string{"ecg", "ppg", "temp"}
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg := Defaults()
		cfg.HR.Latching = len(b)%2 == 1
		cfg.Technical.ProbeOff.Latching = len(b)%3 == 1
		m, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		now := t0
		active := map[ID]Transition{}
		var lastID ID
		for ; len(b) >= 4; b = b[4:] {
			now = now.Add(time.Duration(b[1]) * 100 * time.Millisecond)
			var out []Transition
			switch b[0] % 7 {
			case 0:
				v := vitals[int(b[2])%len(vitals)]
				value := float64(b[3])
				if v == Temp {
					value = 30 + float64(b[3])/20
				}
				out = m.Update(now, v, value, b[2] < 200)
			case 1:
				out = m.Technical(now, sources[int(b[2])%len(sources)], conds[int(b[3]>>1)%len(conds)], b[3]&1 == 1)
			case 2:
				out = m.Tick(now)
			case 3:
				id := ID(b[2])
				_, known := active[id]
				out, err = m.Ack(now, id)
				if known != (err == nil) {
					t.Fatalf("Ack(%d): err %v, active %v", id, err, known)
				}
				if err != nil && !errors.Is(err, ErrUnknownID) {
					t.Fatalf("Ack(%d): %v", id, err)
				}
			case 4:
				out = m.Rhythm(now, rhythms[int(b[2])%len(rhythms)], Observation(b[3]%3), float64(b[3])/10)
			case 5:
				out = m.Hold(now, vitals[int(b[2])%len(vitals)])
			case 6:
				// A beat-to-beat value, up to 2 s in the past.
				m.Instant(now.Add(-time.Duration(b[2])*10*time.Millisecond), vitals[int(b[2])%len(vitals)], float64(b[3]))
			}
			for _, tr := range out {
				if !tr.Time.Equal(now) {
					t.Fatalf("transition at %v, call at %v", tr.Time, now)
				}
				switch tr.Event {
				case Raised:
					if tr.ID <= lastID {
						t.Fatalf("raised id %d after %d", tr.ID, lastID)
					}
					lastID = tr.ID
					for _, a := range active {
						if a.Kind == tr.Kind && a.Source == tr.Source && a.Condition == tr.Condition {
							t.Fatalf("second active %s %s %s", tr.Kind, tr.Source, tr.Condition)
						}
					}
					if tr.Priority < Low || tr.Priority > High {
						t.Fatalf("priority %d", tr.Priority)
					}
					active[tr.ID] = tr
				case Cleared:
					if _, ok := active[tr.ID]; !ok {
						t.Fatalf("cleared id %d that is not active", tr.ID)
					}
					delete(active, tr.ID)
				case Acknowledged:
					if _, ok := active[tr.ID]; !ok {
						t.Fatalf("acknowledged id %d that is not active", tr.ID)
					}
				default:
					t.Fatalf("event %v", tr.Event)
				}
			}
			got := m.Active()
			if len(got) != len(active) {
				t.Fatalf("Active has %d alarms, transitions say %d", len(got), len(active))
			}
			for i, a := range got {
				if _, ok := active[a.ID]; !ok {
					t.Fatalf("Active lists id %d never raised", a.ID)
				}
				if i > 0 && got[i-1].Priority < a.Priority {
					t.Fatalf("Active not sorted by priority")
				}
			}
		}
	})
}
