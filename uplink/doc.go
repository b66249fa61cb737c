// Package uplink publishes spooled records to the MQTT broker over mutual
// TLS (MQTT 3.1.1, QoS 1, paho.mqtt.golang) and acknowledges them to the
// spool once the broker has.
//
// Data comes from the spool through the three-method Source (Next, Ack,
// Rewind); the uplink only reads it, so it can never block acquisition.
// Each record's payload is a telemetry.Pack, rendered with package senml
// (JSON or CBOR) and published to
//
//	{prefix}/{device}/{telemetry|alarms|events}/{stream}
//
// with prefix medagent/v1 by default. The topic is the same for both
// formats (there is no "/cbor" suffix): a deployment uses one format, and a
// subscriber can tell them apart by the first byte ('[' for JSON, 0x8X or
// 0x9X for a CBOR array).
//
// # Delivery
//
// At most InFlight records (default 32) are published and not yet
// acknowledged. A record is acked to the spool only when its PUBACK arrived
// (the paho token completed without error), in publish order. Records are
// published in spool order, which keeps each stream in order. When the
// connection breaks, the uplink waits for its goroutines, calls
// Source.Rewind and republishes from the oldest unacked record, so a
// subscriber sees duplicates only from within the last window; the "seq"
// field of every pack (see package senml) lets it drop them.
//
// # Undecodable records
//
// A record whose payload does not decode as a telemetry.Pack (or whose
// stream/class disagrees with the record, or that SenML refuses) is logged
// with its stream and seq (never its content), counted in
// Status.Undecodable and acked, so one bad record cannot block the queue
// forever. It is lost by design; the count makes the loss visible.
//
// # Connection
//
// The client id is the device id, and the broker identifies the device by
// its certificate. After each connect the uplink publishes a retained
// "online" to {prefix}/{device}/status; the connection's last will is a
// retained "offline" on the same topic, and a clean shutdown publishes
// "offline" itself. Connecting is retried forever with capped exponential
// backoff and jitter (BackoffMin doubling up to BackoffMax, each sleep
// drawn uniformly from [d/2, d]); an unreachable broker at start is logged
// and retried, never fatal. A spool error (Next or Ack failing) ends the
// session like a broken connection and is retried after backoff.
// Run returns nil when its context is canceled.
package uplink
