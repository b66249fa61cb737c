package pipeline

// IEEE 11073-10101 reference IDs and UCUM units of what the pipeline emits.
const (
	MDCHeartRate   = "MDC_ECG_HEART_RATE"      // 1/min
	MDCSpO2        = "MDC_PULS_OXIM_SAT_O2"    // %
	MDCPulseRate   = "MDC_PULS_OXIM_PULS_RATE" // 1/min
	MDCPerfusion   = "MDC_PULS_OXIM_PERF_REL"  // %
	MDCTempBody    = "MDC_TEMP_BODY"           // Cel
	MDCECGLeadII   = "MDC_ECG_ELEC_POTL_II"    // mV
	MDCPlethRed    = "MDC_PULS_OXIM_PLETH_RED" // raw counts
	MDCPlethIR     = "MDC_PULS_OXIM_PLETH_IR"  // raw counts
	unitPerMin     = "1/min"
	unitPercent    = "%"
	unitCelsius    = "Cel"
	alarmStreamPre = "tech-"
)
