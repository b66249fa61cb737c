package slot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// Digest is a SHA-256.
type Digest [sha256.Size]byte

func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// Errors a caller may check with errors.Is.
var (
	ErrTooLarge    = errors.New("payload larger than the slot")
	ErrSize        = errors.New("payload length differs from its declared size")
	ErrReadBack    = errors.New("read-back digest differs from the written one")
	ErrUnsupported = errors.New("slot device is neither a block device nor a regular file")
)

// DefaultFlushEvery is the default fsync interval.
const DefaultFlushEvery = 8 << 20

const bufSize = 1 << 20

// Writer streams payloads into slots.
type Writer struct {
	// FlushEvery is the number of bytes between fsyncs; 0 means DefaultFlushEvery.
	FlushEvery int64
	// Progress, if set, is called after each chunk with the bytes written so far.
	Progress func(written int64)
}

// Write streams size bytes from r into dst with the default Writer.
func Write(ctx context.Context, dst string, r io.Reader, size int64) (Digest, error) {
	return (&Writer{}).Write(ctx, dst, r, size)
}

// Capacity returns the size of a slot: the size of a block device, or of a
// (preallocated) regular file.
func Capacity(dst string) (int64, error) {
	f, err := os.Open(dst)
	if err != nil {
		return 0, fmt.Errorf("slot: %w", err)
	}
	defer f.Close()
	return capacity(f)
}

func capacity(f *os.File) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("slot: stat: %w", err)
	}
	switch {
	case fi.Mode().IsRegular():
		return fi.Size(), nil
	case fi.Mode()&os.ModeDevice != 0 && fi.Mode()&os.ModeCharDevice == 0:
		n, err := f.Seek(0, io.SeekEnd)
		if err != nil {
			return 0, fmt.Errorf("slot: size of %s: %w", f.Name(), err)
		}
		return n, nil
	}
	return 0, fmt.Errorf("slot: %s (%s): %w", f.Name(), fi.Mode(), ErrUnsupported)
}

// Write streams exactly size bytes from r into dst, reads r once more to
// its EOF (where a verifying reader reports a checksum mismatch), fsyncs,
// and compares a read-back SHA-256 with the streamed one. A payload larger
// than the slot is refused before anything is written.
func (w *Writer) Write(ctx context.Context, dst string, r io.Reader, size int64) (Digest, error) {
	var zero Digest
	if size < 0 {
		return zero, fmt.Errorf("slot: negative payload size %d", size)
	}
	every := w.FlushEvery
	if every <= 0 {
		every = DefaultFlushEvery
	}
	f, err := os.OpenFile(dst, os.O_WRONLY, 0)
	if err != nil {
		return zero, fmt.Errorf("slot: open: %w", err)
	}
	defer f.Close()
	capa, err := capacity(f)
	if err != nil {
		return zero, err
	}
	if size > capa {
		return zero, fmt.Errorf("slot: %s: %d bytes into %d: %w", dst, size, capa, ErrTooLarge)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return zero, fmt.Errorf("slot: %w", err)
	}
	h := sha256.New()
	buf := make([]byte, bufSize)
	var written, sinceSync int64
	for written < size {
		if err := ctx.Err(); err != nil {
			return zero, fmt.Errorf("slot: write %s: %w", dst, err)
		}
		n := int64(len(buf))
		if rem := size - written; rem < n {
			n = rem
		}
		m, err := io.ReadFull(r, buf[:n])
		if m > 0 {
			h.Write(buf[:m])
			if _, werr := f.Write(buf[:m]); werr != nil {
				return zero, fmt.Errorf("slot: write %s at %d: %w", dst, written, werr)
			}
			written += int64(m)
			sinceSync += int64(m)
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return zero, fmt.Errorf("slot: payload ended after %d of %d bytes: %w", written, size, ErrSize)
			}
			return zero, fmt.Errorf("slot: read payload: %w", err)
		}
		if sinceSync >= every {
			if err := syncDrop(f); err != nil {
				return zero, err
			}
			sinceSync = 0
		}
		if w.Progress != nil {
			w.Progress(written)
		}
	}
	// Read to EOF: verifying readers check their digest there.
	var one [1]byte
	if m, err := io.ReadFull(r, one[:]); m > 0 {
		return zero, fmt.Errorf("slot: payload longer than %d bytes: %w", size, ErrSize)
	} else if !errors.Is(err, io.EOF) {
		return zero, fmt.Errorf("slot: payload: %w", err)
	}
	if err := syncDrop(f); err != nil {
		return zero, err
	}
	var streamed Digest
	h.Sum(streamed[:0])
	back, err := readBack(dst, size)
	if err != nil {
		return zero, err
	}
	if back != streamed {
		return zero, fmt.Errorf("slot: %s: streamed %s, read back %s: %w", dst, streamed, back, ErrReadBack)
	}
	return streamed, nil
}

// syncDrop fsyncs and asks the kernel to drop the cached pages, so the
// page cache does not fill with a rootfs and the read-back reads the media.
func syncDrop(f *os.File) error {
	if err := f.Sync(); err != nil {
		return fmt.Errorf("slot: fsync %s: %w", f.Name(), err)
	}
	_ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED) // advisory only
	return nil
}

// ReadBack returns the SHA-256 of the first size bytes of dst.
func ReadBack(dst string, size int64) (Digest, error) { return readBack(dst, size) }

func readBack(dst string, size int64) (Digest, error) {
	var d Digest
	f, err := os.Open(dst)
	if err != nil {
		return d, fmt.Errorf("slot: read back: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, io.LimitReader(f, size), make([]byte, bufSize))
	if err != nil {
		return d, fmt.Errorf("slot: read back %s: %w", dst, err)
	}
	if n != size {
		return d, fmt.Errorf("slot: read back %s: %d of %d bytes: %w", dst, n, size, ErrSize)
	}
	h.Sum(d[:0])
	return d, nil
}
