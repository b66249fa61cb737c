package audit

import (
	"sort"

	"medagent/telemetry"
)

// Stream is the event stream audit entries are spooled on.
const Stream = "audit"

// Pack is the entry as an event for the back end: audit/seq, audit/kind
// and audit/prev (the chain link), then audit/FIELD for every field that
// is not empty, in name order.
func (e Entry) Pack() telemetry.Pack {
	recs := []telemetry.Record{
		{Name: "audit/seq", Value: telemetry.V(float64(e.Seq))},
		{Name: "audit/kind", String: e.Kind},
	}
	if e.Prev != "" {
		recs = append(recs, telemetry.Record{Name: "audit/prev", String: e.Prev})
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := e.Fields[k]; v != "" {
			recs = append(recs, telemetry.Record{Name: "audit/" + k, String: v})
		}
	}
	return telemetry.Pack{Stream: Stream, Class: telemetry.ClassEvent, Time: e.Time, Records: recs}
}
