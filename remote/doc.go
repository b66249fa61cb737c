// Package remote carries out what the fleet asks of a device, across the
// two roles: signed commands and update artifacts.
//
// The uplink role (network, no trust) receives a command on
// {prefix}/{device}/cmd/..., makes only cheap checks (Forward: size, the
// envelope's JSON shape, this device's id) and hands the signed bytes,
// unchanged, through the hand-off (package handoff). The acquire role (no
// network, the keyring) takes them (Service): it verifies signature,
// device, expiry and nonce with its own keyring and nonce store
// (trust/command, trust/keyring), runs the command and spools its result
// as an event of stream "cmd-result" (command.Result.Pack), which the
// uplink publishes, as JSON, on {prefix}/{device}/cmd-result once the
// broker can take it. Role all takes the same path.
//
//	broker ─cmd─▶ uplink: Forward ─▶ handoff ─▶ acquire: Service ─▶ verify, run
//	broker ◀─cmd-result── uplink ◀── spool (event "cmd-result") ◀──┘
//
// Results: refused (with trust/command's code, or "trust-unavailable"
// while the keyring or nonce store cannot be loaded), failed (verified,
// running it failed), done; an update is "accepted" (with the phase it is
// in) until it ends done or failed. The uplink answers at once only what
// it refuses itself (malformed, wrong device) or cannot hand over.
//
// A keyring or nonce store that does not load never stops acquisition:
// commands are refused with the reason and loading is tried again with
// the next command.
package remote
