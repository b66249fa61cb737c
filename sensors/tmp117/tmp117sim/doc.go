// Package tmp117sim is a register-level simulator of the TI TMP117
// (SNOSD82) that implements periph's i2c.Bus, so the real tmp117 driver
// runs unchanged against it in tests, the demo and the QEMU image.
//
// Temperatures come from an injected Waveform (°C, one value per
// conversion at the configured cycle time); time comes from an injected
// clock or from Advance, so every run is deterministic. Faults (NACK,
// timeout, wrong ID, stuck result) are switched on with SetFault.
package tmp117sim
