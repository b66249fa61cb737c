// Package command verifies signed commands sent to the device over MQTT
// (topic "cmd") and shapes the results it publishes (topic "cmd-result").
//
// The broker is not trusted: whoever owns it can publish anything, replay
// old messages and drop others. So the device obeys only an envelope that
//
//   - is signed by a configured command key (a list, for rotation; see
//     package trust/keyring), ECDSA P-256 with SHA-256 (ASN.1 signature) or
//     Ed25519;
//   - names this device;
//   - is inside its validity window: issued_at not later than now plus a
//     small skew (default 2 min), expires_at not earlier than now, and a
//     lifetime expires_at-issued_at of at most MaxLifetime (default 24 h);
//   - carries a nonce never accepted before. Accepted nonces are written
//     durably (temp, fsync, rename, fsync dir) before Verify returns, so a
//     restart does not reopen a replay window. An entry is pruned only once
//     its command has expired, when the expiry check refuses a replay anyway;
//     with the lifetime cap that bounds the store. A full store refuses
//     (fail closed). The store also keeps a high-water mark of the clock;
//     expiry is judged at the later of it and the clock, so a clock set
//     back (RTC reset) cannot revive a command whose nonce was pruned.
//
// # Envelope (JSON, at most 64 KiB, unknown fields refused)
//
//	{
//	  "v": 1,
//	  "device": "MA-0001",
//	  "name": "update" | "reboot" | "config" | "diagnostics",
//	  "args": {"url": "https://...",       // string to string, optional;
//	           "digest": "sha256:<hex>"},  // update: both required
//	  "issued_at": 1767225600,             // Unix seconds
//	  "expires_at": 1767229200,            // Unix seconds
//	  "nonce": "base64 of 16 to 64 random bytes",
//	  "key_id": "ops-2026",
//	  "alg": "ES256" | "Ed25519",
//	  "sig": "base64 signature"
//	}
//
// # Canonical encoding (what is signed)
//
// The signature covers every field except sig, encoded without JSON so
// that no reformatting of the JSON can change what was signed:
//
//	"medagent-command-v1" 0x00
//	then, each as a 4-byte big-endian length followed by the bytes:
//	v (decimal), device, name, alg, key_id, issued_at (decimal),
//	expires_at (decimal), nonce (raw bytes), the number of args (decimal),
//	then for each arg in byte order of its key: key, value.
//
// ECDSA signs the SHA-256 digest of that; Ed25519 signs the bytes.
//
// Every refusal wraps a distinct sentinel (ErrMalformed, ErrUnsigned,
// ErrUnknownKey, ErrBadSignature, ErrWrongDevice, ErrExpired,
// ErrNotYetValid, ErrLifetime, ErrReplay, ErrNonceStoreFull), and
// ResultFor maps it to a stable code for the cmd-result message.
package command
