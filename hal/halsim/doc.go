// Package halsim wires the register-level chip simulators to a simulated
// patient (medagent/sensors/sim) behind a hal.Sim, so the demo and the
// QEMU image open "sim" buses with hal and run the real tmp117, max3010x,
// ads1292 and nonin drivers against one consistent patient: the ECG on the
// ADS1292R's channel 2, red/IR PPG in the MAX3010x FIFO, body temperature
// in the TMP117 and a Nonin oximeter on a pseudo-terminal whose HR and
// SpO2 are the patient's set points.
//
// The stream rates given in Options must equal the rates the drivers are
// configured with (SensorConfig.Rate), because each simulator draws one
// patient sample per conversion.
package halsim
