package pipeline

import (
	"math"

	"medagent/edge/alarm"
	"medagent/telemetry"
)

// vitalNames maps an alarm's vital to the name and unit of its value.
var vitalNames = map[alarm.Vital][2]string{
	alarm.HR:        {MDCHeartRate, unitPerMin},
	alarm.PulseRate: {MDCPulseRate, unitPerMin},
	alarm.SpO2:      {MDCSpO2, unitPercent},
	alarm.Temp:      {MDCTempBody, unitCelsius},
}

// alarmPacks turns transitions into alarm packs. A physiological alarm
// goes to the stream named after its vital ("hr", "spo2" ...), a technical
// one to "tech-{source}", so they stay apart on their topics:
//
//	alarm/id        v   the alarm's id, the same from raised to cleared
//	alarm/event     vs  raised, cleared or acknowledged
//	alarm/kind      vs  physiological or technical
//	alarm/condition vs  low, high, critical_low, critical_high, lead_off ...
//	alarm/priority  vs  low, medium or high (IEC 60601-1-8)
//	alarm/text      vs  the condition as a display shows it ("ECG noise / artefact")
//	MDC_...         v   the value that caused it, in its unit (physiological)
//	MDC_.../limit   v   the limit crossed (physiological)
//	alarm/duration  v   asystole and pause: seconds without a QRS complex (s)
//	alarm/limit     v   and the configured limit (s)
func alarmPacks(trs []alarm.Transition) []telemetry.Pack {
	var out []telemetry.Pack
	for _, tr := range trs {
		stream := string(tr.Vital)
		if tr.Kind == alarm.Technical {
			stream = alarmStreamPre + tr.Source
			if tr.Source == "" {
				stream = alarmStreamPre + string(tr.Vital)
			}
		}
		recs := []telemetry.Record{
			{Name: "alarm/id", Value: telemetry.V(float64(tr.ID))},
			{Name: "alarm/event", String: tr.Event.String()},
			{Name: "alarm/kind", String: tr.Kind.String()},
			{Name: "alarm/condition", String: string(tr.Condition)},
			{Name: "alarm/priority", String: tr.Priority.String()},
			{Name: "alarm/text", String: tr.Condition.Text()},
		}
		if tr.Condition == alarm.Asystole || tr.Condition == alarm.Pause {
			recs = append(recs,
				telemetry.Record{Name: "alarm/duration", Unit: "s", Value: telemetry.V(math.Round(tr.Value*10) / 10)},
				telemetry.Record{Name: "alarm/limit", Unit: "s", Value: telemetry.V(tr.Limit)},
			)
		} else if n, ok := vitalNames[tr.Vital]; ok && tr.Kind == alarm.Physiological {
			recs = append(recs,
				telemetry.Record{Name: n[0], Unit: n[1], Value: telemetry.V(tr.Value)},
				telemetry.Record{Name: n[0] + "/limit", Unit: n[1], Value: telemetry.V(tr.Limit)},
			)
		}
		out = append(out, telemetry.Pack{Stream: stream, Class: telemetry.ClassAlarm, Time: tr.Time, Records: recs})
	}
	return out
}
