package artifact

import (
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

func checkedXZ(r io.Reader) (io.Reader, error) {
	xr, err := xz.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("artifact: xz: %w: %w", streamErr(err), err)
	}
	return xr, nil
}
