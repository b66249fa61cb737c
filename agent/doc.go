// Package agent wires medagent's components for a role and runs them.
//
// Data flows one way: acquisition (package acquire: samplers and the edge
// stage) appends packs to the spool, and the uplink publishes them over
// mutual-TLS MQTT and acks them back to the spool after the broker's
// PUBACK.
//
//	acquire ─▶ spool (disk) ─▶ uplink ─▶ broker
//
// Acquisition and uplink meet only at the spool directory and, the other
// way, at the hand-off (package handoff: signed commands and downloaded
// artifacts, which the acquire side of package remote verifies again), so
// that they can run as separate processes (--role acquire and --role
// uplink) and a stalled network never stalls acquisition. Role all takes
// the same paths in one process. Every component exposes
// Run(ctx) error and Agent.Run starts them in one errgroup; the technician
// socket, the update engine, signed commands and the watchdog are handed
// small interfaces of the others, never their fields.
package agent
