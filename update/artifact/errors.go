package artifact

import "errors"

// Sentinel errors; returned errors wrap them, check with errors.Is.
var (
	// ErrFormat reports a malformed artifact (bad member, bad JSON, bad
	// manifest line, size limit exceeded).
	ErrFormat = errors.New("malformed artifact")
	// ErrUnexpectedMember reports an outer or header tar member that is
	// not allowed at its position.
	ErrUnexpectedMember = errors.New("unexpected member")
	// ErrTruncated reports an artifact that ends early.
	ErrTruncated = errors.New("truncated artifact")
	// ErrUnsigned reports an artifact without manifest.sig while keys are
	// configured.
	ErrUnsigned = errors.New("artifact is not signed")
	// ErrNoKeys reports that no verification key is configured and
	// unsigned artifacts were not explicitly allowed.
	ErrNoKeys = errors.New("no verification key configured (set keys, or AllowUnsigned explicitly)")
	// ErrSignature reports a signature that no trusted key verifies.
	ErrSignature = errors.New("signature verification failed")
	// ErrChecksum reports content whose sha256 differs from the manifest.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrMissing reports a manifest entry with no matching member or file.
	ErrMissing = errors.New("manifest entry without content")
	// ErrDeviceType reports an artifact not made for this device type.
	ErrDeviceType = errors.New("incompatible device type")
	// ErrDepends reports an unmet artifact_depends entry.
	ErrDepends = errors.New("unmet artifact dependency")
	// ErrAugmented reports a delta artifact.
	ErrAugmented = errors.New("augmented (delta) artifacts are not supported")
	// ErrTooLarge reports a payload (or its decompressed data member)
	// larger than Options.MaxPayloadSize or than its signed declared size.
	ErrTooLarge = errors.New("payload too large")
	// ErrCompression reports an unknown compression suffix.
	ErrCompression = errors.New("unsupported compression")
)
