package artifact

import (
	"archive/tar"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
)

// PayloadFile is one file of a payload, read as a stream. Read hashes the
// bytes as they pass and, at the end, returns io.EOF only if the sha256
// matches the signed manifest; otherwise it returns an error wrapping
// ErrChecksum. The caller must not trust (install, commit, execute) any of
// the bytes before Read returned io.EOF.
//
// When the payload's signed meta-data holds a chunk list for the file
// (Chunks), Read also hands out only bytes whose chunk it has verified:
// the first chunk that differs fails with a *ChunkError before any of its
// bytes reaches the caller.
type PayloadFile struct {
	Name    string   // file name inside the payload, e.g. "rootfs.ext4"
	Size    int64    // bytes
	Payload int      // payload index (data/NNNN)
	SHA256  [32]byte // signed checksum from the manifest
	Chunks  *Chunks  // signed chunk list, nil when the artifact has none

	r      *Reader
	h      hash.Hash
	n      int64
	done   bool
	chunks *chunkState
}

// Read implements io.Reader; see the type comment for the EOF contract.
func (f *PayloadFile) Read(p []byte) (int, error) {
	if f.r.err != nil {
		return 0, f.r.err
	}
	if f.r.cur != f {
		return 0, fmt.Errorf("artifact: %s: read after Next moved on: %w", f.Name, ErrFormat)
	}
	if f.done {
		return 0, io.EOF
	}
	if f.chunks != nil {
		return f.readChunked(p)
	}
	n, err := f.r.inner.Read(p)
	f.h.Write(p[:n])
	f.n += int64(n)
	if err == io.EOF {
		return n, f.atEnd()
	}
	if err != nil {
		return n, f.r.fail(fmt.Errorf("artifact: %s: %w", f.Name, f.r.streamFailure(err)))
	}
	return n, nil
}

// atEnd checks the whole file once its last byte was read: its length and
// its manifest digest. It returns io.EOF when both are right.
func (f *PayloadFile) atEnd() error {
	if f.n != f.Size {
		return f.r.fail(fmt.Errorf("artifact: %s: %d of %d bytes: %w", f.Name, f.n, f.Size, ErrTruncated))
	}
	if f.h != nil && [32]byte(f.h.Sum(nil)) != f.SHA256 {
		return f.r.fail(fmt.Errorf("artifact: payload file %q (payload %d) does not match the manifest: %w", f.Name, f.Payload, ErrChecksum))
	}
	f.done = true
	return io.EOF
}

func (r *Reader) fail(err error) error {
	if r.err == nil {
		r.err = err
	}
	return r.err
}

// Next returns the next payload file. A file the caller did not read to
// its end is read and checked first. Next returns io.EOF after the last
// file once the whole artifact is verified: every manifest entry matched
// and the archive properly terminated; only then is the artifact valid.
func (r *Reader) Next() (*PayloadFile, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.done {
		return nil, io.EOF
	}
	f, err := r.next()
	if err != nil && err != io.EOF {
		return nil, r.fail(err)
	}
	if err == io.EOF {
		r.done = true
	}
	return f, err
}

func (r *Reader) next() (*PayloadFile, error) {
	if r.cur != nil {
		if _, err := io.Copy(io.Discard, r.cur); err != nil {
			return nil, err
		}
		r.cur = nil // later reads of that file fail, see PayloadFile.Read
	}
	for {
		if r.inner == nil {
			if r.index == len(r.hdr.Payloads) {
				if err := r.finish(); err != nil {
					return nil, err
				}
				return nil, io.EOF
			}
			if err := r.openData(); err != nil {
				return nil, err
			}
		}
		th, err := r.inner.Next()
		if err == io.EOF {
			if r.innerCnt.n < r.innerEnd+1024 {
				return nil, fmt.Errorf("artifact: data/%04d: inner tar has no end-of-archive marker: %w", r.index, ErrFormat)
			}
			if err := r.closeData(); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("artifact: data/%04d: %w", r.index, r.streamFailure(err))
		}
		r.innerEnd = r.innerCnt.n + (th.Size+511)&^511
		if !plainFile(th) || strings.Contains(th.Name, "/") || !validName(th.Name) {
			return nil, fmt.Errorf("artifact: data/%04d: entry %q is not a plain file: %w", r.index, th.Name, ErrUnexpectedMember)
		}
		if max := r.opt.MaxPayloadSize; max > 0 && th.Size > max {
			return nil, fmt.Errorf("artifact: data/%04d/%s is %d bytes, more than the %d allowed (slot size): %w", r.index, th.Name, th.Size, max, ErrTooLarge)
		}
		name := fmt.Sprintf("data/%04d/%s", r.index, th.Name)
		sum, err := r.man.take(name)
		if err != nil {
			return nil, err
		}
		f := &PayloadFile{Name: th.Name, Size: th.Size, Payload: r.index, SHA256: sum, r: r, h: sha256.New()}
		if c := r.hdr.Payloads[r.index].Chunks; c != nil && c.File == th.Name {
			if th.Size != c.Size {
				return nil, fmt.Errorf("artifact: %s is %d bytes, its signed chunk list says %d: %w", name, th.Size, c.Size, ErrChecksum)
			}
			f.Chunks, f.chunks = c, &chunkState{c: c}
			r.chunkUsed = true
			if r.opt.TrustChunks {
				f.h = nil // every byte is checked against the signed chunk list
			}
		} else if r.opt.RequireChunks {
			return nil, fmt.Errorf("artifact: %s: %w (update.require_chunks is set; add one with \"medagent artifact chunks\", see the README): %w", name, ErrNoChunks, ErrChecksum)
		}
		r.cur = f
		return r.cur, nil
	}
}

func (r *Reader) openData() error {
	want := fmt.Sprintf("data/%04d", r.index)
	th, err := r.nextMember()
	if err == io.EOF {
		return fmt.Errorf("artifact: missing member %s.tar*: %w", want, ErrTruncated)
	}
	if err != nil {
		return err
	}
	if isAugment(th.Name) {
		return fmt.Errorf("artifact: member %q: %w", th.Name, ErrAugmented)
	}
	base, comp, err := splitCompression(th.Name)
	if err != nil || base != want {
		return fmt.Errorf("artifact: member %q where %s.tar* belongs: %w", th.Name, want, ErrUnexpectedMember)
	}
	dec, err := decompress(comp, r.tr, r.opt.MaxWindow, true)
	if err != nil {
		return fmt.Errorf("artifact: %s: %w", th.Name, err)
	}
	if max := r.opt.MaxPayloadSize; max > 0 {
		dec = &limitedDecoder{ReadCloser: dec, name: th.Name, left: max + maxTarOverhead, max: max}
	}
	r.hdr.Payloads[r.index].Compression = comp
	r.dec = dec
	r.innerCnt, r.innerEnd = &countingReader{r: dec}, 0
	r.inner = tar.NewReader(r.innerCnt)
	return nil
}

// closeData checks what follows the inner tar's end marker is only zero
// padding and that the decompressor reached its clean end (which verifies
// gzip/xz integrity checks).
func (r *Reader) closeData() error {
	var buf [4096]byte
	var total int64
	for {
		n, err := r.dec.Read(buf[:])
		for _, c := range buf[:n] {
			if c != 0 {
				return fmt.Errorf("artifact: data/%04d: data after the end of the inner tar: %w", r.index, ErrFormat)
			}
		}
		total += int64(n)
		if total > maxTrailingZeroBytes {
			return fmt.Errorf("artifact: data/%04d: too much padding: %w", r.index, ErrFormat)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("artifact: data/%04d: %w", r.index, r.streamFailure(err))
		}
	}
	if c := r.hdr.Payloads[r.index].Chunks; c != nil && !r.chunkUsed {
		return fmt.Errorf("artifact: data/%04d: signed chunk list for %q but the payload has no such file: %w", r.index, c.File, ErrMissing)
	}
	r.dec.Close()
	r.dec, r.inner = nil, nil
	r.chunkUsed = false
	r.index++
	return nil
}

// finish checks the outer archive ends properly and nothing in the
// manifest was left unmatched.
func (r *Reader) finish() error {
	th, err := r.nextMember()
	if err == nil {
		if isAugment(th.Name) {
			return fmt.Errorf("artifact: member %q: %w", th.Name, ErrAugmented)
		}
		return fmt.Errorf("artifact: member %q after the last payload: %w", th.Name, ErrUnexpectedMember)
	}
	if !errors.Is(err, io.EOF) {
		return err
	}
	if r.cnt.n < r.memEnd+1024 {
		return fmt.Errorf("artifact: no end-of-archive marker: %w", ErrTruncated)
	}
	if err := r.drainTail(); err != nil {
		return err
	}
	if missing := r.man.unused(); len(missing) > 0 {
		return fmt.Errorf("artifact: manifest lists %q but the artifact has no such content: %w", missing, ErrMissing)
	}
	return nil
}

// drainTail reads the input after the end-of-archive marker to its end:
// only zero padding (tar record blocking) may follow, at most
// maxTrailingZeroBytes. Reading to the end also lets a caller that wraps
// the input (a digest over the whole file, see remote) check every byte
// before Next reports the artifact valid.
func (r *Reader) drainTail() error {
	var buf [4096]byte
	var total int64
	for {
		n, err := r.cnt.Read(buf[:])
		for _, c := range buf[:n] {
			if c != 0 {
				return fmt.Errorf("artifact: data after the end-of-archive marker: %w", ErrFormat)
			}
		}
		if total += int64(n); total > maxTrailingZeroBytes {
			return fmt.Errorf("artifact: more than %d bytes of padding after the end-of-archive marker: %w", maxTrailingZeroBytes, ErrFormat)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("artifact: after the end-of-archive marker: %w", err)
		}
	}
}

// limitedDecoder fails a data member that decompresses to more than its
// bound, whatever its tar headers say.
type limitedDecoder struct {
	io.ReadCloser
	name      string
	left, max int64
}

func (l *limitedDecoder) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, fmt.Errorf("artifact: %s decompresses to more than %d bytes (payload bound %d plus tar overhead): %w", l.name, l.max+maxTarOverhead, l.max, ErrTooLarge)
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.ReadCloser.Read(p)
	l.left -= int64(n)
	return n, err
}

// streamFailure classifies an error from the open data member's stream
// (see streamFailure); a stream or inner tar that ends early while the
// outer member was read to its last byte is malformed, not truncated:
// more input would not complete it.
func (r *Reader) streamFailure(err error) error {
	c := streamFailure(err)
	if errors.Is(c, ErrTruncated) && r.cnt.n >= r.dataEnd {
		return fmt.Errorf("%w: the member is complete but its compressed stream or inner tar ends early or has a tail that is neither (%v)", ErrFormat, err)
	}
	return c
}

// streamFailure classifies an error from the payload stream: the
// decompressors' own (already classified) errors pass through, anything
// else means the stream ended or broke early.
func streamFailure(err error) error {
	for _, known := range []error{ErrFormat, ErrTruncated, ErrWindow, ErrTooLarge, ErrCompression, ErrChecksum} {
		if errors.Is(err, known) {
			return err
		}
	}
	return tarFailure(err)
}

// tarFailure classifies an error of archive/tar: bytes that are no tar
// header or a header field out of bounds are ErrFormat (and say which);
// anything else means the input ended or broke early, ErrTruncated (a
// download may still bring the rest).
func tarFailure(err error) error {
	switch {
	case errors.Is(err, tar.ErrHeader):
		return fmt.Errorf("%w: not a valid tar header where one belongs (not a Mender artifact, or damaged): %w", ErrFormat, err)
	case errors.Is(err, tar.ErrFieldTooLong):
		return fmt.Errorf("%w: a tar header field (name, pax record) is longer than allowed: %w", ErrFormat, err)
	}
	return fmt.Errorf("%w: %w", ErrTruncated, err) // the input ended or broke early
}
