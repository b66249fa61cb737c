// Package buserr holds the error sentinels shared by the hardware
// abstraction layer, the sensor drivers and their simulators.
//
// Drivers wrap these with their own prefix ("tmp117: read temperature: %w"),
// so the agent's sampling loop can decide on retry, reopen or technical
// alarm with errors.Is, without knowing which chip or bus failed. hal maps
// Linux errno values (ENXIO/EREMOTEIO, ETIMEDOUT, ENOENT, EACCES, EBUSY)
// to these sentinels; the register-level simulators return them directly.
package buserr
