// Package datakey provides the spool's 32-byte AES-256 key
// (spool.Options.Key). Load makes it at first start and returns the same
// key at every later start.
//
// With a TPM 2.0 the key is sealed: a keyed-hash data object holding the
// 32 random bytes is created (TPM2_Create) under the owner's storage
// primary key (the TCG ECC P-256 SRK template, re-derived by
// TPM2_CreatePrimary at each start, so nothing needs to be persisted in the
// TPM), and only its public and TPM-encrypted private areas are kept in
// Options.File. Load uses TPM2_Load and TPM2_Unseal. The blob is useless
// without this TPM: a stolen storage card does not reveal the data.
//
// Blob file format (big-endian): "MDK1", uint16 length + TPM2B_PUBLIC,
// uint16 length + TPM2B_PRIVATE, nothing after.
//
// Without a TPM the key is the 32 raw bytes of Options.File, mode 0640 (the
// group, the spool reader's, may read it; nobody else),
// refused if its group may write it or others may read it, or if it is not 32 bytes.
// Every file is written temp, fsync, rename, fsync dir.
//
// Not done: binding the sealed object to PCR values (a policy); with a
// measured boot that would also refuse a modified system.
package datakey
