// Package acquire is medagent's acquisition: it opens the configured
// sensors, samples each in its own loop, runs the edge stage on what they
// deliver and appends the packs it makes (telemetry, alarms, sensor
// events) to the spool. It has no network.
//
//	sampler ─┐
//	sampler ─┼─▶ edge ─▶ Appender (the spool writer)
//	sampler ─┘
//
// Data comes from the sensor drivers (through hal, or the register-level
// simulators on bus "sim") and the sim-* generators; it goes to the
// Appender given in Options. Acquisition.Run owns every goroutine.
// The read-only status methods (Latest, Alarms, Monitoring, SensorsUp,
// Alive) serve the technician socket, the update engine's clinical lock
// and health checks, and the watchdog; Ack is the one write.
//
// Time: sample blocks are stamped with a monotonic clock whose origin is
// taken in New, and every wait is a time.Ticker, so tests run the whole
// loop under testing/synctest. A sample slot that is not read stays in
// the stream as an invalid sample at its time (sampler.place, gap).
package acquire
