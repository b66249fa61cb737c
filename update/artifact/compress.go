package artifact

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Compression names as reported in Header.Compression.
const (
	CompressionNone = "none"
	CompressionGzip = "gzip"
	CompressionXZ   = "xz" // mender-artifact calls it "lzma"
	CompressionZstd = "zstd"
)

// maxZstdWindow bounds the zstd decoder's window so a hostile stream
// cannot make it allocate without limit.
const maxZstdWindow = 8 << 20

// splitCompression splits "header.tar.gz" into ("header", "gzip").
func splitCompression(name string) (base, comp string, err error) {
	for _, c := range []struct{ suffix, comp string }{
		{".tar", CompressionNone},
		{".tar.gz", CompressionGzip},
		{".tar.xz", CompressionXZ},
		{".tar.zst", CompressionZstd},
	} {
		if b, ok := strings.CutSuffix(name, c.suffix); ok {
			return b, c.comp, nil
		}
	}
	return "", "", fmt.Errorf("artifact: member %q: %w (want .tar, .tar.gz, .tar.xz or .tar.zst)", name, ErrCompression)
}

// decompress wraps r in the decompressor for comp.
func decompress(comp string, r io.Reader) (io.ReadCloser, error) {
	switch comp {
	case CompressionNone:
		return io.NopCloser(r), nil
	case CompressionGzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("artifact: gzip: %w: %w", streamErr(err), err)
		}
		zr.Multistream(false)
		return zr, nil
	case CompressionXZ:
		xr, err := checkedXZ(r)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(xr), nil
	case CompressionZstd:
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return nil, fmt.Errorf("artifact: zstd: %w", err)
		}
		return zstdCloser{zr}, nil
	}
	return nil, fmt.Errorf("artifact: %q: %w", comp, ErrCompression)
}

// streamErr classifies a decompressor start-up error: a stream that ends
// early is truncated, anything else is malformed.
func streamErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrTruncated
	}
	return ErrFormat
}

type zstdCloser struct{ *zstd.Decoder }

func (z zstdCloser) Close() error { z.Decoder.Close(); return nil }

// MaxXZDict bounds the LZMA2 dictionary an xz payload may declare. The
// decoder needs the whole window in memory; mender-artifact 3.9 "lzma"
// writes 64 MiB dictionaries, so xz artifacts cost about 64 MiB of RAM
// (gzip and none stay within a few MiB).
const MaxXZDict = 64 << 20

// checkedXZ refuses xz streams whose first block declares a dictionary
// above MaxXZDict, before the decoder allocates it. Later blocks are not
// inspected (ulikunitz/xz offers no hook); mender-artifact writes one.
func checkedXZ(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 4096)
	// Stream header (12 bytes), block header size byte, block flags.
	if hdr, err := br.Peek(14); err == nil && hdr[12] != 0 {
		size := (int(hdr[12]) + 1) * 4
		if bh, err := br.Peek(12 + size); err == nil {
			if dict, ok := xzFirstDict(bh[12:]); ok && dict > MaxXZDict {
				return nil, fmt.Errorf("artifact: xz dictionary of %d bytes exceeds %d: %w", dict, MaxXZDict, ErrFormat)
			}
		}
	}
	xr, err := xz.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("artifact: xz: %w: %w", streamErr(err), err)
	}
	return xr, nil
}

// xzFirstDict returns the LZMA2 dictionary size in a block header (first
// byte is the header size byte), when the first filter is LZMA2.
func xzFirstDict(bh []byte) (int64, bool) {
	flags := bh[1]
	i := 2
	skipVarint := func() bool {
		for i < len(bh) {
			c := bh[i]
			i++
			if c&0x80 == 0 {
				return true
			}
		}
		return false
	}
	if flags&0x40 != 0 && !skipVarint() {
		return 0, false
	}
	if flags&0x80 != 0 && !skipVarint() {
		return 0, false
	}
	// Only the last filter may be LZMA2 (0x21); with one filter it is first.
	if flags&0x03 != 0 || i+3 > len(bh) || bh[i] != 0x21 || bh[i+1] != 1 {
		return 0, false
	}
	d := bh[i+2] & 0x3f
	if d > 40 {
		return 1 << 62, true
	}
	if d == 40 {
		return 1<<32 - 1, true
	}
	return int64(2|d&1) << (d/2 + 11), true
}
