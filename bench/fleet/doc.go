// Package fleet is `make bench-fleet`: N devices on one machine against a
// real three-node NATS cluster (uplink/natstest) and the spec-built Mender
// server (mender/mendertest). Each device is an uplink with its own
// identity (certificate, NATS user with its own permissions, Mender key)
// and its own spool, run side by side in the bench process (a bench-only
// mode: the device binary has no such thing). The bench reports, for each
// N: the connects per second after a full cluster restart (the herd, or
// its absence), the broker-side messages per second, the uplinks' CPU and
// RSS per device, and the time until one artifact deployed to all N shows
// success for every device in the server's status view.
//
// It is a test behind the build tag fleetbench, so that `make test` does
// not run it: go test -tags fleetbench -run TestFleet -v ./bench/fleet -args -n 100
package fleet
