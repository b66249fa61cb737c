// Package trust is the root of medagent's chain of trust. It holds no code
// of its own; its subpackages each do one part:
//
//   - identity: the device key, made on the device and never exported
//     (TPM 2.0 when present, else a 0600 PKCS#8 key file), as a crypto.Signer.
//   - provision: the factory step: a CSR naming the device serial, and the
//     check and durable install of the certificate chain that comes back
//     ("medagent provision csr|install"); pkitest scripts the PKI for tests.
//   - est: renewal of the device certificate over EST (RFC 7030)
//     simplereenroll, with a Run(ctx) loop.
//   - command: signed command envelopes and their verification (signature,
//     addressee, validity window, durable replay protection) and the
//     cmd-result message; command/cmdsign signs them ("medagent cmd-sign").
//   - keyring: the persisted, versioned lists of command- and
//     update-signing keys, changed only by a verified config command (and,
//     for update keys, a signature by a current update key).
//   - datakey: the spool's AES-256 key, sealed by the TPM or kept in a 0600 file.
//
// The design goal: whoever owns the broker or the network cannot make the
// device install, reboot or change its configuration, and cannot
// impersonate it.
//
// # TLS and key policy
//
//   - Transport: TLS 1.2 or 1.3 only, ECDHE with AEAD suites, the broker's
//     and EST server's CA pinned from a file (never the system pool), no
//     way to skip verification (package tlsconf; a test greps for it).
//   - Client authentication: always mutual TLS with the device certificate;
//     its key is the identity key (TPM or file), the same for MQTT and EST.
//   - Device key: ECDSA P-256. In a TPM: created by the TPM
//     (sensitiveDataOrigin, fixedTPM, fixedParent), so it cannot be
//     exported. In a file: PKCS#8, mode 0600, refused if group or others can
//     read it, never overwritten.
//   - Device certificate: manufacturer root -> factory CA (pathlen 0,
//     permitted DNS domain) -> device (CN = serialNumber = serial, one DNS
//     SAN <serial>.<domain>, clientAuth). Checked the same way at the
//     factory and at every renewal (provision.Check).
//   - Command keys: ECDSA P-256 (SHA-256) or Ed25519. Update keys: ECDSA
//     P-256 or RSA >= 2048 (what mender-artifact signs with; Ed25519 is
//     refused for them). Both are lists in the keyring, changed only by a
//     command signed with a current command key; an update-key change must
//     also be signed by a current update key (separate authority).
//   - Data at rest: the spool's AES-256-GCM key from datakey, sealed to the
//     TPM when there is one.
//   - Everything fails closed: a missing or loose key file, an unreadable
//     nonce or key store, a stale CRL, an unknown field: refuse and name it.
package trust
