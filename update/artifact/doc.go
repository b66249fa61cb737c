// Package artifact reads and verifies Mender artifacts (format version 3)
// as a stream, without the Mender Go library.
//
// An artifact is an outer (uncompressed) tar whose members come in a fixed
// order:
//
//	version            {"format":"mender","version":3}
//	manifest           sha256sum-style lines: version, header.tar[.gz|.xz|.zst], data/NNNN/<file>
//	manifest.sig       optional base64 signature over the manifest bytes
//	header.tar[.ext]   header-info, scripts/*, headers/NNNN/type-info, headers/NNNN/meta-data
//	data/NNNN.tar[.ext] one inner tar per payload, holding the payload files
//
// The format is described in Mender's public documentation ("Mender Artifact
// format", format v3) and was checked against artifacts written by Debian's
// mender-artifact 3.9 (see the interop tests). Augmented (delta) artifacts
// (manifest-augment, header-augment) are refused.
//
// Trust order: the manifest and its signature are verified before any other
// byte is used; the version and header members are compared against the
// manifest before they are parsed; payload files are hashed while they
// stream and their readers report ErrChecksum at EOF. A caller must not act
// on payload bytes (for example mark a written slot bootable) until the
// payload reader returned io.EOF, and must treat the whole artifact as
// valid only when Reader.Next returned io.EOF.
//
// Signatures are RSA PKCS#1 v1.5 with SHA-256 or ECDSA P-256 with SHA-256
// (raw r||s or ASN.1 DER). With keys configured an unsigned artifact is
// refused; with no keys the reader refuses everything unless
// Options.AllowUnsigned is set.
//
// Memory does not grow with the payload size: the manifest, signature and
// header are read into bounded buffers (see the Max* constants) and the
// payload is streamed. Decompression is bounded for any input, hostile or
// not: every gzip member, every xz stream and block (the xz container is
// parsed here, see xz.go) and every zstd frame is checked, no window above
// Options.MaxWindow (default 8 MiB) is allocated (ErrWindow), and a data
// member may decompress to no more than Options.MaxPayloadSize plus tar
// overhead (ErrTooLarge). mender-artifact 3.9's "lzma" declares a 64 MiB
// dictionary: such payloads need MaxWindow 64 MiB (and that much RAM).
// Measured peak RSS of a process reading a 1 GiB rootfs artifact: about
// 15 MiB for gzip and none; hostile artifacts (multi-stream xz bomb, gzip
// members of zeros, a 256 MiB zstd window) are refused within 12 MiB
// (TestHostileArtifactsBoundedMemory).
//
// Verify before write: a payload's signed meta-data may carry a chunk list
// (ChunkMetaKey: SHA-256 of every ChunkSize piece of a file, made by
// MakeChunks or "medagent artifact chunks"). PayloadFile.Read then hands
// out only bytes of chunks it has verified; the first piece that differs
// fails with a *ChunkError before any of its bytes reaches the caller.
// Artifacts without a list still read (stock Mender artifacts), checked at
// the end of each file; Options.RequireChunks refuses them (ErrNoChunks).
// Options.TrustChunks hashes a chunked file once (against its list) for
// an installer that re-hashes the written copy against the manifest
// digest whenever it cannot vouch for it.
//
// The engine uses NewReader with the device's keys, device type and
// stored provides, streams each PayloadFile into the inactive slot, and
// after commit stores NewProvides(stored, header). InspectCmd, VerifyCmd
// and ChunksCmd back "medagent artifact inspect|verify|chunks".
package artifact
