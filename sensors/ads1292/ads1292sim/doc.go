// Package ads1292sim is a register-level simulator of the TI ADS1292R
// (SBAS502) that implements periph's spi.PortCloser, with a simulated DRDY
// line (hal/simpin), so the real ads1292 driver runs unchanged against it.
//
// It decodes the opcodes (RESET, START, STOP, STANDBY, WAKEUP, RDATAC,
// SDATAC, RDATA, RREG, WREG), keeps the register map, produces frames at
// the CONFIG1 data rate from an injected Waveform (channel 1 and 2 in mV,
// converted with the programmed gain and VREF), reports lead-off in the
// status word and LOFF_STAT, and overwrites unread frames like the chip.
// Time comes from an injected or manual clock. Faults: absent chip (MISO
// floats high), wrong ID, DRDY stuck high (timeout), stuck data; a wrong
// SPI mode returns bit-shifted garbage as a real part would.
package ads1292sim
