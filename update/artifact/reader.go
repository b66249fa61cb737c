package artifact

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
)

// Options configures NewReader.
type Options struct {
	// Keys are the trusted public keys; the manifest signature must verify
	// with one of them. With keys set, an unsigned artifact is refused.
	Keys []crypto.PublicKey
	// AllowUnsigned accepts artifacts without verifying any signature. It
	// is honoured only when Keys is empty; the caller should log it.
	AllowUnsigned bool
	// DeviceType must be listed in the artifact's artifact_depends.device_type.
	DeviceType string
	// Provides are the device's stored provides, for artifact_depends checks.
	Provides map[string]string
	// SkipCompatibility skips the device type and depends checks. It is for
	// tools that inspect artifacts made for other devices, never for
	// installing.
	SkipCompatibility bool
	// MaxWindow bounds the window (LZMA2 dictionary, zstd window) any
	// decompressor may allocate; 0 means DefaultMaxWindow, at least
	// MinMaxWindow.
	MaxWindow int64
	// MaxPayloadSize, if positive, bounds each payload file and the bytes
	// its data member may decompress to (the file plus tar overhead): an
	// installer sets the slot size. Larger content fails with ErrTooLarge
	// before it is read.
	MaxPayloadSize int64
	// RequireChunks refuses payload files without a signed chunk list in
	// their payload's meta-data (ErrNoChunks), so that nothing unverified
	// is ever handed out.
	RequireChunks bool
	// TrustChunks skips the whole-file hash of a payload file that has a
	// signed chunk list covering it: every byte is then checked once,
	// against the chunk list (signed like the manifest), and the file's
	// manifest digest is left to the caller (an installer re-hashes the
	// written slot against it whenever it cannot vouch for the slot).
	TrustChunks bool
}

// maxTarOverhead is what a data member may decompress to beyond its
// files: tar headers, end marker and zero padding.
const maxTarOverhead = maxTrailingZeroBytes + 1<<20

// Reader streams a Mender artifact. NewReader verifies everything up to
// and including the header; Next then yields the payload files.
type Reader struct {
	opt   Options
	cnt   *countingReader
	tr    *tar.Reader
	man   *manifest
	hdr   Header
	err   error // sticky
	done  bool
	index int // payload index of the open data member, or next one
	dec   io.ReadCloser
	inner *tar.Reader
	cur   *PayloadFile
	// chunkUsed: the open data member's chunk list matched one of its files.
	chunkUsed bool
	memEnd    int64           // offset where the last outer member's data (padded) ends
	dataEnd   int64           // offset where the last outer member's data ends
	innerCnt  *countingReader // bytes the inner tar read from the open data member
	innerEnd  int64           // offset in it where the last inner file's data (padded) ends
}

// countingReader counts bytes the tar reader consumed; it hides any Seek
// method so tar reads (and counts) every byte.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// NewReader reads and verifies the artifact's version, manifest, signature
// and header from src. On success Header is valid and trusted; payload
// files follow through Next.
func NewReader(src io.Reader, opt Options) (*Reader, error) {
	cnt := &countingReader{r: bufio.NewReaderSize(src, 64<<10)}
	if opt.MaxWindow == 0 {
		opt.MaxWindow = DefaultMaxWindow
	}
	if opt.MaxWindow < MinMaxWindow {
		return nil, fmt.Errorf("artifact: Options.MaxWindow %d is below %d", opt.MaxWindow, MinMaxWindow)
	}
	r := &Reader{opt: opt, cnt: cnt, tr: tar.NewReader(cnt)}
	if err := r.open(opt); err != nil {
		return nil, err
	}
	return r, nil
}

// Header returns the verified header.
func (r *Reader) Header() *Header { return &r.hdr }

// nextMember returns the next outer tar member, checking it is a regular
// file; io.EOF at the end of the archive.
func (r *Reader) nextMember() (*tar.Header, error) {
	th, err := r.tr.Next()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("artifact: outer tar: %w", tarFailure(err))
	}
	if !plainFile(th) {
		return nil, fmt.Errorf("artifact: member %q is not a plain regular file: %w", th.Name, ErrUnexpectedMember)
	}
	if th.Size < 0 {
		return nil, fmt.Errorf("artifact: member %q: negative size: %w", th.Name, ErrFormat)
	}
	r.memEnd = r.cnt.n + (th.Size+511)&^511
	r.dataEnd = r.cnt.n + th.Size
	return th, nil
}

// readMember reads the whole current member, refusing more than limit bytes.
func (r *Reader) readMember(th *tar.Header, limit int64) ([]byte, error) {
	if th.Size > limit {
		return nil, fmt.Errorf("artifact: member %q is %d bytes (limit %d): %w", th.Name, th.Size, limit, ErrFormat)
	}
	b := make([]byte, th.Size)
	if _, err := io.ReadFull(r.tr, b); err != nil {
		return nil, fmt.Errorf("artifact: read %q: %w: %w", th.Name, ErrTruncated, err)
	}
	return b, nil
}

func expectMember(th *tar.Header, err error, want string) error {
	if err == io.EOF {
		return fmt.Errorf("artifact: missing member %q: %w", want, ErrTruncated)
	}
	if err != nil {
		return err
	}
	if th.Name != want {
		return fmt.Errorf("artifact: member %q where %q belongs: %w", th.Name, want, ErrUnexpectedMember)
	}
	return nil
}

func (r *Reader) open(opt Options) error {
	for i, k := range opt.Keys {
		if err := checkKey(k); err != nil {
			return fmt.Errorf("artifact: Options.Keys[%d]: %w", i, err)
		}
	}
	th, err := r.nextMember()
	if err := expectMember(th, err, "version"); err != nil {
		return err
	}
	version, err := r.readMember(th, maxVersionSize)
	if err != nil {
		return err
	}
	th, err = r.nextMember()
	if err := expectMember(th, err, "manifest"); err != nil {
		return err
	}
	manBytes, err := r.readMember(th, MaxManifestSize)
	if err != nil {
		return err
	}
	th, err = r.nextMember()
	if err == io.EOF {
		return fmt.Errorf("artifact: missing header member: %w", ErrTruncated)
	}
	if err != nil {
		return err
	}
	var sig []byte
	if th.Name == "manifest.sig" {
		if sig, err = r.readMember(th, MaxSignatureSize); err != nil {
			return err
		}
		if th, err = r.nextMember(); err == io.EOF {
			return fmt.Errorf("artifact: missing header member: %w", ErrTruncated)
		} else if err != nil {
			return err
		}
	}
	if isAugment(th.Name) {
		return fmt.Errorf("artifact: member %q: %w", th.Name, ErrAugmented)
	}
	if base, _, err := splitCompression(th.Name); err != nil || base != "header" {
		// Named before the signature check so that a repeated or stray
		// member is reported as such, not as a missing signature.
		return fmt.Errorf("artifact: member %q where the header belongs: %w", th.Name, ErrUnexpectedMember)
	}

	// Trust the manifest before anything else is used.
	r.hdr.Signed = sig != nil
	switch {
	case len(opt.Keys) > 0 && sig == nil:
		return fmt.Errorf("artifact: no manifest.sig and %d trusted keys configured: %w", len(opt.Keys), ErrUnsigned)
	case len(opt.Keys) > 0:
		k, err := verifyingKey(manBytes, sig, opt.Keys)
		if err != nil {
			return err
		}
		r.hdr.Verified, r.hdr.KeyID = true, KeyID(k)
	case !opt.AllowUnsigned:
		return fmt.Errorf("artifact: %w", ErrNoKeys)
	}
	if r.man, err = parseManifest(manBytes); err != nil {
		return err
	}
	if err := r.checkSum("version", version); err != nil {
		return err
	}
	if err := parseVersion(version, &r.hdr); err != nil {
		return err
	}

	base, comp, err := splitCompression(th.Name)
	if err != nil || base != "header" {
		return fmt.Errorf("artifact: member %q where the header belongs: %w", th.Name, ErrUnexpectedMember)
	}
	if !r.man.has(th.Name) {
		return fmt.Errorf("artifact: header %q is not listed in the manifest: %w", th.Name, ErrUnexpectedMember)
	}
	hb, err := r.readMember(th, MaxHeaderSize)
	if err != nil {
		return err
	}
	if err := r.checkSum(th.Name, hb); err != nil {
		return err
	}
	r.hdr.Compression = comp
	dec, err := decompress(comp, bytes.NewReader(hb), opt.MaxWindow, false)
	if err != nil {
		return err
	}
	err = parseHeader(dec, &r.hdr)
	if err == nil {
		err = onlyPadding(dec, th.Name)
	}
	dec.Close()
	if err != nil {
		return err
	}
	for i := range r.hdr.Payloads {
		p := &r.hdr.Payloads[i]
		p.Files = r.man.files(i)
		if p.Chunks, err = parseChunks(p.MetaData); err != nil {
			return fmt.Errorf("artifact: headers/%04d/%w", i, err)
		}
	}
	if !opt.SkipCompatibility {
		return checkCompatible(&r.hdr, opt.DeviceType, opt.Provides)
	}
	return nil
}

// onlyPadding checks that what follows the header tar's end marker in its
// decompressed member is zero padding up to a clean end of the stream
// (which checks gzip/xz/zstd integrity): a header with a tail is refused,
// as a data member with one is.
func onlyPadding(dec io.Reader, name string) error {
	var buf [4096]byte
	var total int64
	for {
		n, err := dec.Read(buf[:])
		if bytes.ContainsFunc(buf[:n], func(c rune) bool { return c != 0 }) {
			return fmt.Errorf("artifact: %s: data after the end of the header tar: %w", name, ErrFormat)
		}
		if total += int64(n); total > maxTrailingZeroBytes {
			return fmt.Errorf("artifact: %s: too much padding after the header tar: %w", name, ErrFormat)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("artifact: %s: after the header tar: %w: %v", name, ErrFormat, err)
		}
	}
}

// isAugment reports the members that only delta (augmented) artifacts have.
func isAugment(name string) bool {
	return strings.HasPrefix(name, "manifest-augment") || strings.HasPrefix(name, "header-augment")
}

func (r *Reader) checkSum(name string, b []byte) error {
	want, err := r.man.take(name)
	if err != nil {
		return err
	}
	if sha256.Sum256(b) != want {
		return fmt.Errorf("artifact: %q does not match the manifest: %w", name, ErrChecksum)
	}
	return nil
}

func parseVersion(b []byte, h *Header) error {
	var v struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := decodeStrict(b, &v); err != nil {
		return fmt.Errorf("artifact: version: %w: %w", ErrFormat, err)
	}
	if v.Format != "mender" || v.Version != 3 {
		return fmt.Errorf("artifact: format %q version %d, only mender version 3 is supported: %w", v.Format, v.Version, ErrFormat)
	}
	h.Format, h.Version = v.Format, v.Version
	return nil
}
