package pipeline

import "medagent/sensors"

// IEEE 11073-10101 reference IDs and UCUM units of what the pipeline emits.
// The raw signals' IDs are the sensors' (package sensors names what the
// parts deliver); the derived ones are the pipeline's.
const (
	MDCHeartRate   = "MDC_ECG_HEART_RATE"     // 1/min
	MDCSpO2        = sensors.MDCSpO2          // %
	MDCPulseRate   = sensors.MDCPulseRate     // 1/min
	MDCPerfusion   = "MDC_PULS_OXIM_PERF_REL" // %
	MDCTempBody    = sensors.MDCTempBody      // Cel
	MDCECGLeadII   = sensors.MDCECGLeadII     // mV
	MDCPlethRed    = sensors.MDCPlethRed      // raw counts
	MDCPlethIR     = sensors.MDCPlethIR       // raw counts
	unitPerMin     = "1/min"
	unitPercent    = "%"
	unitCelsius    = "Cel"
	alarmStreamPre = "tech-"
)
