// Package trust is the root of medagent's chain of trust. It holds no code
// of its own; its subpackages each do one part:
//
//   - identity: the device key, made on the device and never exported
//     (TPM 2.0 when present, else a 0600 PKCS#8 key file), as a crypto.Signer.
//   - provision: the factory step: a CSR naming the device serial, and the
//     check and durable install of the certificate chain that comes back.
//   - est: renewal of the device certificate over EST (RFC 7030)
//     simplereenroll, with a Run(ctx) loop.
//   - command: signed command envelopes and their verification (signature,
//     addressee, validity window, durable replay protection).
//   - keyring: the persisted, versioned list of command- and update-signing
//     keys, changed only by a signed configuration command.
//   - datakey: the spool's AES-256 key, sealed by the TPM or kept in a 0600 file.
//
// The design goal: whoever owns the broker or the network cannot make the
// device install, reboot or change its configuration, and cannot
// impersonate it.
package trust
