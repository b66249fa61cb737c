package telemetry

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var packCases = []Pack{
	{Stream: "ecg", Class: ClassTelemetry, Time: time.Date(2026, 11, 29, 5, 0, 0, 123_456_789, time.UTC), Records: []Record{
		{Name: "MDC_ECG_ELEC_POTL_II", Unit: "mV", Value: V(0.105)},
		{Name: "MDC_ECG_ELEC_POTL_II", Unit: "mV", Value: V(0.5), Offset: 0.004},
	}},
	{Stream: "alarms", Class: ClassAlarm, Time: time.Date(2026, 11, 29, 5, 0, 1, 1_000_000, time.UTC), Records: []Record{
		{Name: "MDC_EVT_ALARM_ACTIVE", Bool: B(true)},
		{Name: "MDC_EVT_ALARM_SOURCE", String: "hr high"},
	}},
	{Stream: "spool", Class: ClassEvent, Time: time.Unix(1700000000, 1).UTC(), Records: []Record{
		{Name: "event/records", Value: V(3)},
	}},
}

// TestMarshalKeepsNanoseconds: the pack time survives the spool exactly;
// it used to be cut to whole seconds.
func TestMarshalKeepsNanoseconds(t *testing.T) {
	for _, p := range packCases {
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(p, got); diff != "" {
			t.Errorf("%s: round trip (-want +got):\n%s", p.Stream, diff)
		}
	}
}

// TestUnmarshalWholeSeconds reads a pack as earlier versions spooled it
// (time as an integer of Unix seconds).
func TestUnmarshalWholeSeconds(t *testing.T) {
	// {1: "ecg", 2: 1, 3: 1700000000, 4: [{1: "MDC_TEMP_BODY", 3: 36.5}]}
	b, _ := hex.DecodeString("a401636563670201031a6553f1000481a2016d4d44435f54454d505f424f445903f95090")
	p, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Time.Equal(time.Unix(1700000000, 0)) || len(p.Records) != 1 || *p.Records[0].Value != 36.5 {
		t.Fatalf("got %+v", p)
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, p := range packCases {
		b, _ := p.Marshal()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Unmarshal(b)
		if err != nil {
			return
		}
		// What decodes encodes again and decodes to the same pack.
		b2, err := p.Marshal()
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		q, err := Unmarshal(b2)
		if err != nil {
			t.Fatalf("decode of re-encoded pack: %v", err)
		}
		if diff := cmp.Diff(p, q); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
