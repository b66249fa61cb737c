// Package floor is the device's anti-rollback version floor: the lowest
// software version the update engine may install. The engine raises it
// only after a commit (to the committed artifact's version) and refuses an
// artifact below it, unless a signed command names that exact artifact.
//
// Versions come from the artifact: its rootfs-image.version provide when
// that holds a version, else its artifact_name (mender-artifact sets the
// first to the second by default). The version is the first run that
// starts with a digit: numeric components separated by dots ("3.2.0" in
// "release-3.2.0"), an optional pre-release after "-" and build metadata
// after "+" (ignored), ordered as Semantic Versioning orders them (missing
// components are 0; a pre-release is lower than its release).
//
// Where the floor lives: in TPM NV where there is a TPM (an owner-range
// ordinary index, 0x01804D46, 64 bytes: "MAFL", a length byte, the version
// text), so that rewriting the storage card cannot lower it; else in an
// authenticated file (internal/authfile, HMAC with a key derived from the
// acquire role's TPM-sealed or 0600 state key). A floor file that fails its
// check is an error, never "no floor": installs are refused until it is
// repaired (fail closed). The store never writes a lower version.
//
// Two more anti-rollback values live beside it in TPM NV (none without a
// TPM): Counter, a TPM_NT_COUNTER at 0x01804D47 that the update journal is
// bound to (update/engine), and KeyringFloor at 0x01804D48 ("MAKR", four
// zero bytes, the version as a big-endian uint64), the highest keyring
// version sealed on the device (trust/keyring).
package floor
