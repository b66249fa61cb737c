// Package tmp117 drives the Texas Instruments TMP117 digital temperature
// sensor over I²C.
//
// Written from the datasheet "TMP117 High-Accuracy, Low-Power, Digital
// Temperature Sensor With SMBus- and I2C-Compatible Interface", TI document
// SNOSD82 (revision D used here): register map in section 7.6, conversion
// cycle table 7-7 (CONV[2:0] × AVG[1:0]), EEPROM programming in 7.5.1.1.
//
// Data comes from the chip's Temp_Result register (0x00, signed 16 bit,
// 7.8125 m°C per LSB) and goes into a caller-owned physic.Temperature.
// The driver never logs, never starts goroutines and never writes EEPROM
// unless ProgramEEPROM is called. Errors wrap medagent/hal/buserr sentinels
// (ErrNACK, ErrTimeout, ErrWrongID) so callers can use errors.Is.
//
// Stuck values: the driver counts identical consecutive raw readings
// (Dev.Repeats); deciding when that becomes a technical alarm is left to
// the caller, because a thermally stable patient can legitimately repeat a
// value for several seconds.
package tmp117
