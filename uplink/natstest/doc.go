// Package natstest runs a real NATS server cluster for tests and benches:
// three (or more) nats-server processes clustered on loopback, each with
// JetStream and its MQTT listener, mutual TLS on MQTT with the client
// certificate mapped to a user (verify_and_map), and per-user permissions.
//
// The server is github.com/nats-io/nats-server/v2 at the version pinned in
// Version, built once with "go install" from the Go module proxy into the
// user's cache directory (about 40 s on two cores the first time), or taken
// from $MEDAGENT_NATS_SERVER when that names a binary.
//
// Nodes are separate processes so that a test can kill one with SIGKILL,
// as a crash or a power cut would, and start it again on the same ports and
// JetStream store.
package natstest
