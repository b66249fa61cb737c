// Package telemetry defines what the edge stage produces and the uplink sends:
// a Pack of SenML-shaped records for one stream and one time window.
//
// Packs are made by the edge stage (agent/edge and the clinical algorithms),
// stored opaque in the spool (spool.Record.Payload holds Pack.Marshal), and
// rendered as SenML (RFC 8428) JSON or CBOR by package senml in the uplink,
// which also adds the per-stream sequence number the spool assigned.
package telemetry
