package audit

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"medagent/telemetry"
)

func TestEntryPack(t *testing.T) {
	at := time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)
	e := Entry{Seq: 7, Time: at, Kind: "install-refused", Prev: "ab12", Fields: map[string]string{"reason": "bad signature", "artifact": "release-2", "empty": ""}}
	want := telemetry.Pack{Stream: "audit", Class: telemetry.ClassEvent, Time: at, Records: []telemetry.Record{
		{Name: "audit/seq", Value: telemetry.V(7)},
		{Name: "audit/kind", String: "install-refused"},
		{Name: "audit/prev", String: "ab12"},
		{Name: "audit/artifact", String: "release-2"},
		{Name: "audit/reason", String: "bad signature"},
	}}
	if diff := cmp.Diff(want, e.Pack()); diff != "" {
		t.Fatal(diff)
	}
	if p := (Entry{Seq: 1, Kind: "k"}).Pack(); len(p.Records) != 2 {
		t.Fatalf("first entry: %+v", p.Records)
	}
}
