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
// with prefix medagent/v1 by default. Events of stream "cmd-result"
// (results of signed commands, spooled by the acquire role) are the
// exception: their JSON goes as it is to {prefix}/{device}/cmd-result.
// The topic is the same for both formats (there is no "/cbor" suffix): a
// deployment uses one format, and a subscriber can tell them apart by the first byte ('[' for JSON, 0x8X or
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
// "offline" itself. The MQTT session is persistent (clean session off), so
// the broker keeps the command subscription, and QoS 1 commands sent while
// the device was away, across reconnects to any node of a cluster; what
// the device has not sent is in the spool, not in the session.
//
// # Brokers, failover and backoff
//
// Options.Brokers lists the nodes of a clustered broker. Each device uses
// its own order of the list (shuffled with its device id as the seed, so a
// fleet spreads) and moves to the next node after any failed or broken
// session. Connecting is retried forever; an unreachable broker at start
// is logged and retried, never fatal. The first attempt goes at once; the
// next ones wait a capped exponential backoff with full jitter (uniform in
// [0, min(BackoffMax, BackoffMin·2^n)), default 1 s and 30 s, cap at most
// 2 min), reset only by a session that stayed up for BackoffResetAfter
// (10 s). A token bucket keeps attempts at or under MaxConnectsPerMinute
// (10) in every 60 s. While it waits, the uplink probes the nodes whose
// last TCP connect failed with a bare TCP connect every ProbeInterval (5 s,
// jittered); when one listens again it is tried after a wait uniform in
// [0, W), W = FleetSize/FleetConnectRate seconds (100 devices at 20
// connects a second: 5 s) but at most BackoffMax − ProbeInterval: a backlog
// starts to drain seconds after the broker returns, not at the end of a
// 30 s backoff, a returning broker is always tried within BackoffMax, and a
// fleet that lost a restarted cluster together spreads its reconnects over
// the time the cluster needs to take them all.
//
// Dial and TLS are bounded by ConnectTimeout (10 s), the broker's CONNACK
// after that by ConnackTimeout (30 s): a cluster that restarts or is loaded
// holds the CONNECTs it took while it looks the session up (NATS: a
// JetStream request, which NATS gives up after its js_api_timeout, 5 s by
// default, and closes the connection), and a device that gave up on a
// held CONNECT and tried
// again would only add a TLS handshake and a session take-over to a busy
// broker's load (NATS even refuses a client id that is still connecting
// elsewhere). Status.ConnackWait says how long the last CONNACK took.
// A spool error (Next or Ack failing) ends the session like a broken
// connection and is retried after backoff. Run returns nil when its
// context is canceled.
//
// # Bounded input
//
// The broker's bytes pass a framing guard before the MQTT client reads
// them: a packet that announces more than MaxPacketBytes (256 KiB by
// default) ends the connection with ErrPacketTooLarge before anything is
// allocated for it (the client itself would allocate the announced length,
// up to 256 MiB, twice).
package uplink
