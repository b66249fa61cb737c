package artifact

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression names as reported in Header.Compression.
const (
	CompressionNone = "none"
	CompressionGzip = "gzip"
	CompressionXZ   = "xz" // mender-artifact calls it "lzma"
	CompressionZstd = "zstd"
)

// DefaultMaxWindow is the default bound of a decompressor's window (LZMA2
// dictionary, zstd window): what an install may allocate for history.
const DefaultMaxWindow = 8 << 20

// MinMaxWindow is the smallest window bound Options.MaxWindow accepts.
const MinMaxWindow = 1 << 20

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

// decompress wraps r in the decompressor for comp. Every gzip member, xz
// stream and block and zstd frame is decoded and checked (none is skipped),
// and no window larger than maxWindow is ever allocated: xz blocks and zstd
// frames that declare more are refused with ErrWindow (with strict false,
// for the size-bounded header, xz blocks decode with a window of maxWindow
// instead and fail only if they need more). gzip's window is 32 KiB.
func decompress(comp string, r io.Reader, maxWindow int64, strict bool) (io.ReadCloser, error) {
	switch comp {
	case CompressionNone:
		return io.NopCloser(r), nil
	case CompressionGzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("artifact: gzip: %w: %w", streamErr(err), err)
		}
		zr.Multistream(true)
		return zr, nil
	case CompressionXZ:
		xr, err := newXZReader(r, maxWindow, strict)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(xr), nil
	case CompressionZstd:
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(uint64(maxWindow)), zstd.WithDecoderMaxMemory(uint64(maxWindow)))
		if err != nil {
			return nil, fmt.Errorf("artifact: zstd: %w", err)
		}
		return zstdReader{zr, maxWindow}, nil
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

type zstdReader struct {
	*zstd.Decoder
	max int64
}

func (z zstdReader) Read(p []byte) (int, error) {
	n, err := z.Decoder.Read(p)
	if errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		err = fmt.Errorf("artifact: zstd: frame window above the %s bound: %s: %w", sizeText(z.max), windowAdvice(0, z.max), ErrWindow)
	}
	return n, err
}

func (z zstdReader) Close() error { z.Decoder.Close(); return nil }
