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
// Separate authority: the authority to sign firmware is not the authority
// to send commands. A change of the update set must in addition carry
// keyring.update_sig, a signature by a current update-signing key (RSA
// PKCS #1 v1.5 or ECDSA P-256 over SHA-256 of UpdateStatement: the change
// and the version it produces), so a command key alone cannot add or
// retire an update key (devtools/cmdsign --update-key makes it).
//
// # Config command arguments (all strings)
//
//	keyring.version    the new store version: exactly current+1 (orders
//	                   two valid changes; a stale one is refused)
//	keyring.set        "command" or "update"
//	keyring.add_id     id of a key to add (optional)
//	keyring.add_key    its public key, base64 of DER SubjectPublicKeyInfo
//	keyring.retire_id  id of a key to remove (optional)
//	keyring.update_sig for keyring.set "update": base64 signature of the
//	                   change by a current update key (see above)
//
// Command keys must be ECDSA P-256 or Ed25519. Update keys must be ECDSA
// P-256 or RSA of at least 2048 bits, what mender-artifact signs with and
// the artifact verifier checks: an Ed25519 update key is refused when it is
// added (ErrEd25519Update); one an older agent stored is ignored on Load
// and reported by Ignored.
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
//
// # Sealed copy (Open, what the agent uses)
//
// The file above is what provisioning writes and people read; the keyring
// that counts is its sealed copy beside it, path.sealed: an authfile
// envelope (format "medagent-keyring", HMAC-SHA256 with a key the agent
// derives from its TPM-sealed state key), mode 0600 in a directory only
// the acquire user may write. The first Open adopts the plain file and
// seals it; Apply writes the sealed copy first, then the plain file. An
// edited plain file is refused and detected: the sealed keyring stands,
// the file is kept as path.rejected and written again (the agent records
// keyring.edit_refused in the audit trail). A sealed copy that fails its
// check (edited, another device key, writable by others, a symlink)
// refuses every command (ErrTampered, keyring.refused), also on retry; it
// is never replaced by the plain file. Recovery is provisioning again as
// root: remove both files and write a new keyring.json.
//
// Where there is a TPM the sealed keyring's version is also recorded in
// TPM NV (Anchor; trust/floor.KeyringFloor, index 0x01804D48) and only
// ever raised: a deleted sealed copy (with a new plain file written) and
// an older sealed copy put back (holding a key retired since) are refused
// with ErrTampered; provisioning again then also clears that index
// (tpm2_nvundefine 0x01804D48 -C o). Not covered without a TPM: someone
// who can delete path.sealed and write path is back at the first start.
// Nothing honest covers it: without a TPM the state key is a file that
// the same someone (the acquire user, root, whoever holds the storage)
// can read, and any version kept elsewhere on the device goes back with
// the storage (README, "Without a TPM").
package keyring
