// Package keyring is the device's persisted trust store: the lists of
// command-signing keys (checked by trust/command) and update-signing keys
// (for the update verifier). Lists, so that a key can be rotated: add the
// new key, move signing to it, retire the old one.
//
// The store changes only through Apply, with a command that
// trust/command.Verifier has accepted (valid signature from a current
// command key, for this device, fresh, never seen): someone who owns the
// broker cannot add a key. A tampered command fails its signature before
// it gets here.
//
// # Config command arguments (all strings)
//
//	keyring.version    the new store version: exactly current+1 (orders
//	                   two valid changes; a stale one is refused)
//	keyring.set        "command" or "update"
//	keyring.add_id     id of a key to add (optional)
//	keyring.add_key    its public key, base64 of DER SubjectPublicKeyInfo
//	keyring.retire_id  id of a key to remove (optional)
//
// Command keys must be ECDSA P-256 or Ed25519; update keys may also be RSA
// of at least 2048 bits (mender-artifact signs with RSA or ECDSA P-256).
// Retiring the last key of a set is refused: it would lock the device.
//
// # File (JSON, written temp, fsync, rename, fsync dir)
//
//	{"format": 1, "version": 7,
//	 "command_keys": [{"id": "ops-2026", "public_key": "MFkw..."}],
//	 "update_keys":  [{"id": "rel-2026", "public_key": "MIIB..."}]}
//
// Load refuses a missing or unreadable store, unknown fields, and a store
// without command or update keys: fail closed.
package keyring
