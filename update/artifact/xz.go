package artifact

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"runtime"

	"github.com/ulikunitz/xz/lzma"
)

// xzReader decodes the xz container (The .xz File Format 1.0.4) itself,
// so that every stream header and every block header is checked and every
// block's LZMA2 window is bounded before a decoder allocates it; the LZMA2
// chunks inside a block are decoded by github.com/ulikunitz/xz/lzma.
//
// In strict mode (payloads) a block that declares a dictionary above
// maxWindow is refused with ErrWindow before anything is allocated. In
// lenient mode (the header, whose output is bounded by MaxHeaderUnpacked)
// such a block decodes with a window of maxWindow, which is enough as long
// as it refers back no further, and fails with ErrWindow if it does:
// mender-artifact's "lzma" declares 64 MiB even for a 400-byte header.
//
// A block that declares its uncompressed size gets a window no larger
// than that. Its memory does not depend on the input: one window at a time
// (the previous one is collected before the next is allocated), one bufio
// buffer, and a constant-size summary of the index (a count, two sums and
// a SHA-256 over the records) instead of a list of records. Allocation is
// also bounded by the output: all windows together may not exceed
// maxWindow plus xzAllocPerByte bytes per decoded byte, so a stream of
// tiny blocks cannot make the decoder clear and collect a window per few
// bytes.
type xzReader struct {
	br        *bufio.Reader
	maxWindow int64
	strict    bool
	err       error // sticky

	streams  int  // streams started
	inBlocks int  // blocks started in this stream
	inStream bool // between a stream header and its footer
	flags    [2]byte
	check    byte
	idx      xzIndexSum // of the blocks decoded in this stream

	blk      *lzma.Reader2 // current block, nil between blocks
	cnt      countingReader
	sum      xzCheck
	hdrLen   int64
	uncomp   int64
	declComp int64 // -1: not declared
	declUnc  int64
	capped   bool // window smaller than the declared dictionary
	declDict int64
	blocks   int
	alloc    int64 // window bytes allocated so far
	out      int64 // bytes decoded so far
}

// xzAllocPerByte bounds window allocation per decoded byte (see xzReader).
const xzAllocPerByte = 16

// ErrWindow reports a compressed stream that needs a window (LZMA2
// dictionary, zstd window) larger than the configured bound.
var ErrWindow = errors.New("compression window larger than allowed")

var xzMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0}

func newXZReader(r io.Reader, maxWindow int64, strict bool) (*xzReader, error) {
	x := &xzReader{br: bufio.NewReaderSize(r, 32<<10), maxWindow: maxWindow, strict: strict}
	if err := x.startStream(true); err != nil {
		return nil, err
	}
	return x, nil
}

func xzErr(f string, a ...any) error {
	return fmt.Errorf("artifact: xz: "+f+": %w", append(a, ErrFormat)...)
}

// readFull is io.ReadFull that reports any early end as ErrTruncated.
func (x *xzReader) readFull(b []byte) error {
	if _, err := io.ReadFull(x.br, b); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("artifact: xz: stream ends early: %w", ErrTruncated)
		}
		return fmt.Errorf("artifact: xz: %w: %w", ErrTruncated, err)
	}
	return nil
}

func (x *xzReader) fail(err error) error {
	if x.err == nil {
		x.err = err
	}
	return x.err
}

// Read implements io.Reader: decoded bytes of all streams in order; io.EOF
// after the last stream's footer and its padding, at the end of the input.
func (x *xzReader) Read(p []byte) (int, error) {
	if x.err != nil {
		return 0, x.err
	}
	for {
		if x.blk != nil {
			n, err := x.blk.Read(p)
			if n > 0 {
				x.sum.Write(p[:n])
				x.uncomp += int64(n)
				x.out += int64(n)
				if x.declUnc >= 0 && x.uncomp > x.declUnc {
					return n, x.fail(xzErr("block longer than its declared %d bytes", x.declUnc))
				}
			}
			switch {
			case err == io.EOF:
				if err := x.endBlock(); err != nil {
					return n, x.fail(err)
				}
			case err != nil:
				return n, x.fail(x.blockErr(err))
			}
			if n > 0 || len(p) == 0 {
				return n, nil
			}
			continue
		}
		if !x.inStream {
			if err := x.startStream(false); err != nil {
				return 0, x.fail(err)
			}
			continue
		}
		if err := x.nextBlock(); err != nil {
			return 0, x.fail(err)
		}
	}
}

func (x *xzReader) blockErr(err error) error {
	if errors.Is(err, ErrTruncated) || errors.Is(err, ErrWindow) {
		return err
	}
	if err == io.ErrUnexpectedEOF {
		return fmt.Errorf("artifact: xz: block ends early: %w", ErrTruncated)
	}
	if x.capped {
		return fmt.Errorf("artifact: xz: block declares a %s dictionary and needs more than the %s window bound (%v): %s: %w",
			sizeText(x.declDict), sizeText(x.maxWindow), err, windowAdvice(x.declDict, x.maxWindow), ErrWindow)
	}
	return fmt.Errorf("artifact: xz: block: %v: %w", err, ErrFormat)
}

// startStream reads stream padding and the next stream header. At the end
// of the input (after at least one stream) it sets io.EOF.
func (x *xzReader) startStream(first bool) error {
	if !first {
		zeros := 0
		for {
			b, err := x.br.ReadByte()
			if err == io.EOF {
				if zeros%4 != 0 {
					return xzErr("stream padding of %d bytes is not a multiple of 4", zeros)
				}
				return io.EOF
			}
			if err != nil {
				return fmt.Errorf("artifact: xz: %w: %w", ErrTruncated, err)
			}
			if b != 0 {
				if zeros%4 != 0 {
					return xzErr("stream padding of %d bytes is not a multiple of 4", zeros)
				}
				x.br.UnreadByte()
				break
			}
			zeros++
		}
	}
	var h [12]byte
	if n, err := io.ReadFull(x.br, h[:]); err != nil {
		if !bytes.HasPrefix(xzMagic, h[:min(n, len(xzMagic))]) {
			return xzErr("no stream header (bad magic)")
		}
		return fmt.Errorf("artifact: xz: stream header ends early: %w", ErrTruncated)
	}
	if !bytes.Equal(h[:6], xzMagic) {
		return xzErr("no stream header (bad magic)")
	}
	if crc32.ChecksumIEEE(h[6:8]) != binary.LittleEndian.Uint32(h[8:]) {
		return xzErr("stream header CRC32 mismatch")
	}
	if h[6] != 0 || h[7]&0xf0 != 0 {
		return xzErr("reserved stream flags set")
	}
	switch h[7] {
	case 0, 1, 4, 10: // none, CRC32, CRC64, SHA-256
	default:
		return fmt.Errorf("artifact: xz: check type %d is not supported (none, CRC32, CRC64, SHA-256): %w", h[7], ErrCompression)
	}
	x.flags = [2]byte{h[6], h[7]}
	x.check = h[7]
	x.inStream = true
	x.idx = xzIndexSum{}
	x.streams++
	x.inBlocks = 0
	return nil
}

// nextBlock reads a block header and starts its decoder, or reads the
// index and footer when the stream has no more blocks.
func (x *xzReader) nextBlock() error {
	size, err := x.br.ReadByte()
	if err != nil {
		return fmt.Errorf("artifact: xz: stream ends early: %w", ErrTruncated)
	}
	if size == 0 {
		return x.endStream()
	}
	n := (int(size) + 1) * 4
	hdr := make([]byte, n)
	hdr[0] = size
	if err := x.readFull(hdr[1:]); err != nil {
		return err
	}
	if crc32.ChecksumIEEE(hdr[:n-4]) != binary.LittleEndian.Uint32(hdr[n-4:]) {
		return xzErr("block header CRC32 mismatch")
	}
	flags := hdr[1]
	if flags&0x3c != 0 {
		return xzErr("reserved block flags set")
	}
	if flags&0x03 != 0 {
		return fmt.Errorf("artifact: xz: %d filters in a block; only a single LZMA2 filter is supported: %w", flags&3+1, ErrCompression)
	}
	p := hdr[2 : n-4]
	x.declComp, x.declUnc = -1, -1
	if flags&0x40 != 0 {
		if x.declComp, p, err = xzVarint(p); err != nil || x.declComp == 0 {
			return xzErr("bad compressed size in block header")
		}
	}
	if flags&0x80 != 0 {
		if x.declUnc, p, err = xzVarint(p); err != nil {
			return xzErr("bad uncompressed size in block header")
		}
	}
	id, p, err := xzVarint(p)
	if err != nil {
		return xzErr("bad filter id")
	}
	if id != 0x21 {
		return fmt.Errorf("artifact: xz: filter %#x is not supported (LZMA2 only): %w", id, ErrCompression)
	}
	psize, p, err := xzVarint(p)
	if err != nil || psize != 1 || len(p) < 1 {
		return xzErr("LZMA2 filter properties are not one byte")
	}
	dictByte := p[0]
	for _, c := range p[1:] {
		if c != 0 {
			return xzErr("non-zero block header padding")
		}
	}
	if dictByte&0xc0 != 0 || dictByte > 40 {
		return xzErr("bad LZMA2 dictionary size %#x", dictByte)
	}
	dict := int64(0xffffffff)
	if dictByte < 40 {
		dict = int64(2|dictByte&1) << (dictByte/2 + 11)
	}
	if x.strict && dict > x.maxWindow {
		return fmt.Errorf("artifact: xz: block %d of stream %d declares a %s dictionary, above the %s window bound: %s: %w",
			x.inBlocks+1, x.streams, sizeText(dict), sizeText(x.maxWindow), windowAdvice(dict, x.maxWindow), ErrWindow)
	}
	window := min(dict, x.maxWindow)
	if x.declUnc >= 0 {
		window = min(window, x.declUnc)
	}
	window = max(window, lzma.MinDictCap)
	x.capped, x.declDict = window < dict && (x.declUnc < 0 || window < x.declUnc), dict
	x.alloc += window
	if x.alloc > x.maxWindow+xzAllocPerByte*x.out {
		return fmt.Errorf("artifact: xz: block %d of stream %d: %d blocks with windows of %d bytes in all for %d decoded bytes (too many blocks for their output): %w",
			x.inBlocks+1, x.streams, x.blocks+1, x.alloc, x.out, ErrFormat)
	}
	if x.blocks > 0 && window >= 1<<20 {
		// The previous block's window is garbage now; collect it before
		// the next one is allocated so two never count at once.
		runtime.GC()
	}
	x.blocks++
	x.inBlocks++
	x.hdrLen = int64(n)
	x.cnt = countingReader{r: x.br}
	x.sum = newXZCheck(x.check)
	x.uncomp = 0
	blk, err := lzma.Reader2Config{DictCap: int(window)}.NewReader2(&x.cnt)
	if err != nil {
		return x.blockErr(err)
	}
	x.blk = blk
	return nil
}

// endBlock checks the sizes, padding and check field of the finished block.
func (x *xzReader) endBlock() error {
	x.blk = nil
	comp := x.cnt.n
	if x.declComp >= 0 && comp != x.declComp {
		return xzErr("block has %d compressed bytes, header says %d", comp, x.declComp)
	}
	if x.declUnc >= 0 && x.uncomp != x.declUnc {
		return xzErr("block has %d bytes, header says %d", x.uncomp, x.declUnc)
	}
	pad := (4 - (x.hdrLen+comp)%4) % 4
	tail := make([]byte, pad+int64(x.sum.Size()))
	if err := x.readFull(tail); err != nil {
		return err
	}
	for _, c := range tail[:pad] {
		if c != 0 {
			return xzErr("non-zero block padding")
		}
	}
	if !bytes.Equal(tail[pad:], x.sum.Sum()) {
		return fmt.Errorf("artifact: xz: block check mismatch (corrupt data): %w", ErrFormat)
	}
	x.idx.add(x.hdrLen+comp+int64(x.sum.Size()), x.uncomp)
	return nil
}

// endStream reads the index (its indicator byte was read) and the footer,
// and compares the index with the blocks decoded.
func (x *xzReader) endStream() error {
	crc := crc32.NewIEEE()
	crc.Write([]byte{0})
	rd := &hashingByteReader{br: x.br, h: crc}
	count, err := xzReadVarint(rd)
	if err != nil {
		return err
	}
	if count != x.idx.n {
		return xzErr("index lists %d blocks, the stream has %d", count, x.idx.n)
	}
	var got xzIndexSum
	for i := int64(0); i < count; i++ {
		u, err := xzReadVarint(rd)
		if err != nil {
			return err
		}
		c, err := xzReadVarint(rd)
		if err != nil {
			return err
		}
		got.add(u, c)
	}
	if got != x.idx {
		return xzErr("index does not match the blocks")
	}
	for (rd.n+1)%4 != 0 {
		b, err := rd.ReadByte()
		if err != nil {
			return err
		}
		if b != 0 {
			return xzErr("non-zero index padding")
		}
	}
	size := rd.n + 1 + 4
	var f [4 + 12]byte
	if err := x.readFull(f[:]); err != nil {
		return err
	}
	if crc.Sum32() != binary.LittleEndian.Uint32(f[:4]) {
		return xzErr("index CRC32 mismatch")
	}
	foot := f[4:]
	if crc32.ChecksumIEEE(foot[4:10]) != binary.LittleEndian.Uint32(foot[:4]) {
		return xzErr("stream footer CRC32 mismatch")
	}
	if (int64(binary.LittleEndian.Uint32(foot[4:8]))+1)*4 != size {
		return xzErr("stream footer index size is wrong")
	}
	if foot[8] != x.flags[0] || foot[9] != x.flags[1] {
		return xzErr("stream footer flags differ from the header")
	}
	if foot[10] != 'Y' || foot[11] != 'Z' {
		return xzErr("no stream footer (bad magic)")
	}
	x.inStream = false
	return nil
}

// xzIndexSum summarises index records in constant memory.
type xzIndexSum struct {
	n, unpadded, uncomp int64
	h                   [32]byte
}

func (s *xzIndexSum) add(unpadded, uncomp int64) {
	var b [32 + 16]byte
	copy(b[:], s.h[:])
	binary.LittleEndian.PutUint64(b[32:], uint64(unpadded))
	binary.LittleEndian.PutUint64(b[40:], uint64(uncomp))
	s.h = sha256.Sum256(b[:])
	s.n++
	s.unpadded += unpadded
	s.uncomp += uncomp
}

// xzVarint decodes an xz multibyte integer (at most 9 bytes, no
// superfluous trailing zero byte) from b.
func xzVarint(b []byte) (int64, []byte, error) {
	var v uint64
	for i := 0; i < 9 && i < len(b); i++ {
		c := b[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			if c == 0 && i > 0 {
				return 0, nil, errors.New("superfluous zero byte")
			}
			if v > 1<<62 {
				return 0, nil, errors.New("too large")
			}
			return int64(v), b[i+1:], nil
		}
	}
	return 0, nil, errors.New("truncated or longer than 9 bytes")
}

type hashingByteReader struct {
	br *bufio.Reader
	h  hash.Hash32
	n  int64
}

func (r *hashingByteReader) ReadByte() (byte, error) {
	b, err := r.br.ReadByte()
	if err != nil {
		return 0, fmt.Errorf("artifact: xz: index ends early: %w", ErrTruncated)
	}
	r.h.Write([]byte{b})
	r.n++
	return b, nil
}

func xzReadVarint(r *hashingByteReader) (int64, error) {
	var b [9]byte
	for i := range b {
		c, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		b[i] = c
		if c&0x80 == 0 {
			v, _, err := xzVarint(b[:i+1])
			if err != nil {
				return 0, xzErr("bad index integer: %v", err)
			}
			return v, nil
		}
	}
	return 0, xzErr("index integer longer than 9 bytes")
}

// xzCheck computes a block's check field as stored (CRCs little-endian).
type xzCheck struct {
	kind byte
	c32  uint32
	c64  uint64
	sha  hash.Hash
}

var crc64Table = crc64.MakeTable(crc64.ECMA)

func newXZCheck(kind byte) xzCheck {
	c := xzCheck{kind: kind}
	if kind == 10 {
		c.sha = sha256.New()
	}
	return c
}

func (c *xzCheck) Write(p []byte) {
	switch c.kind {
	case 1:
		c.c32 = crc32.Update(c.c32, crc32.IEEETable, p)
	case 4:
		c.c64 = crc64.Update(c.c64, crc64Table, p)
	case 10:
		c.sha.Write(p)
	}
}

func (c *xzCheck) Size() int {
	switch c.kind {
	case 1:
		return 4
	case 4:
		return 8
	case 10:
		return 32
	}
	return 0
}

func (c *xzCheck) Sum() []byte {
	switch c.kind {
	case 1:
		return binary.LittleEndian.AppendUint32(nil, c.c32)
	case 4:
		return binary.LittleEndian.AppendUint64(nil, c.c64)
	case 10:
		return c.sha.Sum(nil)
	}
	return []byte{}
}
