// Package max3010xsim is a register-level simulator of the MAX30101 /
// MAX30102 that implements periph's i2c.Bus, including the 32-sample FIFO
// with 5-bit write/read pointers, wrap-around, rollover or drop on
// overflow, the saturating overflow counter, interrupt status registers,
// an INT line (hal/simpin) and die temperature.
//
// Samples come from an injected Waveform (red and IR counts on the 18-bit
// scale; the green slot repeats IR) at the configured sample rate and
// averaging, driven by an injected or manual clock, so runs are
// deterministic. Faults: NACK, timeout, wrong part ID, stuck samples.
package max3010xsim
