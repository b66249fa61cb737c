// Package simrig is the bench's simulated hardware: the register-level
// chip simulators (sensors/<chip>/<chip>sim) fed by one simulated patient
// (sensors/sim), behind the bus name "sim". The real tmp117, max3010x,
// ads1292 and nonin drivers run against it through sensors.Buses, so the
// demo, the tests and the QEMU bench image exercise the driver code: the
// ECG on the ADS1292R's channel 2, red/IR PPG in the MAX3010x FIFO, body
// temperature in the TMP117 and a Nonin oximeter on a pseudo-terminal
// whose HR and SpO2 are the patient's set points.
//
// It is linked into bench builds only (cmd/medagent-sim, tests); the
// device binary has no simulators, and a sensor on bus "sim" is refused
// there (the import-rule test pins it).
//
// The stream rates given in Options must equal the rates the drivers are
// configured with, because each simulator draws one patient sample per
// conversion; ForSensors derives them from the sensor entries.
package simrig
