// Package agent wires medagent's components and runs them.
//
// Data flows one way: each sensor's sampler reads blocks of samples, the
// edge stage turns a window of blocks into telemetry packs, the spool keeps
// them durably, and the uplink publishes them over mutual-TLS MQTT and acks
// them back to the spool after the broker's PUBACK.
//
//	sampler ─┐
//	sampler ─┼─▶ edge ─▶ spool (disk) ─▶ uplink ─▶ broker
//	sampler ─┘
//
// Acquisition (samplers and edge) and uplink meet only at the spool
// directory, so that they can run as separate processes (--role acquire and
// --role uplink) and a stalled network never stalls acquisition. Every
// component exposes Run(ctx) error and Agent.Run starts them in one errgroup.
package agent
