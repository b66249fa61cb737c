// Package audit is the device's security audit trail: install started,
// refused, committed or rolled back (artifact, digest, signing key), key
// and keyring changes (with the signer), commands accepted or refused,
// technician actions (with the caller's uid).
//
// The log is append-only and hash-chained: each entry is one JSON line
// {"seq", "time", "kind", "fields", "prev", "mac"} where prev is the
// SHA-256 of the previous entry's line and mac an HMAC-SHA256 of the entry
// (without its mac) with a key derived from the acquire role's TPM-sealed
// state key. An authenticated head file (internal/authfile) records the
// last entry's seq and hash and the first seq still kept, so that deleting
// entries at the end, or a whole rotated file, is found too. Verify walks
// every kept file and reports each entry that was edited (mac or chain),
// deleted (a gap in seq, a prev that does not match) or cut off.
//
// Rotation: when audit.log would exceed Options.MaxBytes it becomes
// audit.log.1 (older files shift up, beyond Options.Keep the oldest goes)
// and the chain continues in the new file; the head's first-kept seq moves
// with it. Power cuts: each entry is
// one write followed by fsync, then the head is rewritten durably; on Open
// a torn last line (no newline, or not an entry) is cut off and the cut is
// recorded as an entry, and a head one entry behind (cut between the two
// writes) is brought forward.
//
// Every string in an entry comes out of encoding/json, which escapes all
// control characters, so no raw control character from the outside ever
// reaches the file or a terminal (Sanitize does the same for text output).
// Entries are also handed to Options.Publish (the agent spools them as
// events on stream "audit", which the uplink publishes).
//
// Flood bound: each kind may come in a burst of Options.Burst (20) and
// then one per Options.Every (10 s); beyond that entries are dropped and
// counted, never written or published: the first drop writes
// audit.dropping, the count (with the first and last drop's time) goes
// into audit.dropped once the kind is below its bound again, or at Close.
// A hostile local client or a stream of refused commands therefore cannot
// fill the spool (whose eviction would take the oldest telemetry) nor
// rotate older evidence out of the trail, and other kinds (an install, a
// keyring change) are recorded during such a flood. On disk the trail is
// bounded by rotation (MaxBytes × (Keep+1)). The pending counts are kept
// in audit.drops (authenticated, written durably at most once per
// Options.DropSync, 1 s), and Open records what a power cut left there as
// audit.dropped entries marked recovered: a power cut loses at most the
// last DropSync's drops, and a flood costs one small rewrite per interval.
package audit
