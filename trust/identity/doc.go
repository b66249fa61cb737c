// Package identity gives the device its private key as a crypto.Signer,
// usable as tlsconf.Options.Signer for mutual TLS and by trust/provision
// for the CSR. The key is made on the device and never leaves it.
//
// With a TPM 2.0 (Options.TPM, default /dev/tpmrm0 when that exists) the
// key is an ECC P-256 signing key created as a primary object under the
// owner hierarchy and made persistent at Options.Handle (default
// DefaultHandle, in the owner's persistent range 0x81000000-0x817FFFFF);
// later opens use the persistent handle. Signing is TPM2_Sign with the
// ECDSA scheme and the caller's hash (SHA-256, -384 or -512); the
// signature comes back as r, s and is returned ASN.1 DER encoded, as
// crypto/ecdsa does. An object already at the handle that is not an
// unrestricted ECC P-256 signing key is refused, never replaced.
//
// Without a TPM the key is a file: ECDSA P-256, PKCS#8 PEM, mode 0600,
// created with a link so an existing key is never overwritten, and refused
// at load if group or others can read it.
//
// Reference: TCG TPM 2.0 Library, Part 3 (Commands): CreatePrimary,
// EvictControl, ReadPublic, Sign.
package identity
