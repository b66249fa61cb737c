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
// Time: one clock (timebase.go). CLOCK_MONOTONIC, anchored once to the
// wall clock when acquisition starts, stamps sample blocks, window bounds,
// packs and events, so base times are monotonic; the anchor and any
// wall-clock step are published as events on stream "clock". The edge
// stage places frames by their sample time and cuts window k at
// monotonic [k·W, (k+1)·W) (window.go): a window holds every slot of its
// span, a slot not read in time is an invalid sample at its own time, and
// a window the loop reaches late is still emitted, in order, flagged
// window/late. Every wait is a time.Timer or Ticker, so tests run the
// whole loop under testing/synctest.
package acquire
