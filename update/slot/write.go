package slot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"
)

// Digest is a SHA-256.
type Digest [sha256.Size]byte

func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// Errors a caller may check with errors.Is.
var (
	ErrTooLarge    = errors.New("payload larger than the slot")
	ErrSize        = errors.New("payload length differs from its declared size")
	ErrReadBack    = errors.New("read-back differs from the written payload")
	ErrUnsupported = errors.New("slot device is neither a block device nor a regular file")
)

// DefaultFlushEvery is the default write-back window: at most two windows
// of the payload are in the page cache and not yet known to be on the media.
const DefaultFlushEvery = 2 << 20

// chunkSize is the default size of one write (large and aligned: block
// devices and the page cache take it in one go).
const chunkSize = 1 << 20

// Writer streams payloads into slots.
type Writer struct {
	// FlushEvery is the write-back window in bytes; 0 means
	// DefaultFlushEvery. Memory: two windows plus 3.2 MiB (7.2 MiB by
	// default).
	FlushEvery int64
	// Progress, if set, is called after each chunk with the bytes written
	// so far (from the writing goroutine).
	Progress func(written int64)
	// ChunkSize is the size of one write and of each buffer in flight: 0
	// means 1 MiB; otherwise a multiple of 64 KiB of at least HeldBytes.
	// A smaller one (with a smaller FlushEvery) leaves room for a decoder
	// that holds a large window of its own.
	ChunkSize int64
	// Verified says the reader verifies its bytes itself and fails at EOF
	// when they do not match their signed digest (update/artifact's payload
	// files do): Write then does not hash the stream a second time and
	// returns Digest{}. Either way every byte written is read back from the
	// media and compared with what was written.
	Verified bool
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
// its EOF (where a verifying reader reports a checksum mismatch), and makes
// the payload durable. A payload larger than the slot is refused before
// anything is written.
//
// Reading (and decompressing and hashing, in r) runs in the calling
// goroutine; a second goroutine, owned by Write, writes 1 MiB chunks,
// starts the write-back of each window, waits for the previous window to
// reach the media, drops it from the page cache, reads it back and
// compares it byte for byte with the chunks it still holds. The last
// window is compared after the final fsync. The first 1 MiB of the slot
// is wiped before the first write, and the payload's first HeldBytes are
// held back and written (and read back) last, after r reported a good
// EOF: a write cut short or a stream that fails its digest leaves the
// slot without a superblock. The returned digest is the SHA-256 of the
// stream (Digest{} when Verified).
func (w *Writer) Write(ctx context.Context, dst string, r io.Reader, size int64) (Digest, error) {
	var zero Digest
	if size < 0 {
		return zero, fmt.Errorf("slot: negative payload size %d", size)
	}
	window := w.FlushEvery
	if window <= 0 {
		window = DefaultFlushEvery
	}
	cs := w.ChunkSize
	if cs == 0 {
		cs = chunkSize
	}
	if cs < HeldBytes || cs%(64<<10) != 0 {
		return zero, fmt.Errorf("slot: chunk size %d: want a multiple of 64 KiB of at least %d", cs, HeldBytes)
	}
	window = (window + cs - 1) / cs * cs
	f, err := os.OpenFile(dst, os.O_RDWR, 0)
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
	// The start of the slot (every root file system's superblock) is
	// wiped before anything else is written and gets the payload's first
	// HeldBytes only after the rest is written, on the media, read back and
	// the stream verified to its EOF: a slot whose write was cut short, or
	// whose stream failed its digest, never starts with a valid superblock
	// above bytes that do not belong to it (whatever the journal says).
	if err := wipe(f, dst, 0, min(capa, InvalidateBytes)); err != nil {
		return zero, err
	}
	held := make([]byte, min(int64(HeldBytes), size))
	var h hash.Hash
	if !w.Verified {
		h = sha256.New()
	}

	// Chunks in flight: two windows held for the comparison, one being
	// filled, one in the channel.
	nChunks := int(2*window/cs) + 2
	free := make(chan []byte, nChunks)
	for range nChunks {
		free <- make([]byte, cs)
	}
	filled := make(chan chunk, 1)
	cw := newChunkWriter(f, dst, window, cs, free, w.Progress)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var werr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		werr = cw.run(filled, stop)
	}()
	// However the producer ends (error, panic of a test's power cut), the
	// writer stops and is waited for.
	finished := false
	defer func() {
		if !finished {
			close(stop)
			close(filled)
			wg.Wait()
		}
	}()
	fail := func(err error) (Digest, error) {
		close(stop)
		close(filled)
		finished = true
		wg.Wait()
		if err == nil { // the writer failed first
			err = werr
		}
		return zero, err
	}
	// drain ends a write whose stream went bad (short, long, or failing
	// its digest): the chunks already handed to the writer were read (and,
	// with a chunk list, verified) before the bad one, so they are written
	// and synced before Write returns, and nothing after them is touched:
	// the slot's state does not depend on how far the writer lagged.
	drain := func(err error) (Digest, error) {
		close(filled)
		finished = true
		wg.Wait()
		if werr != nil {
			err = fmt.Errorf("%w (and the writer: %v)", err, werr)
		}
		return zero, err
	}

	var read int64
	for read < size {
		if err := ctx.Err(); err != nil {
			return fail(fmt.Errorf("slot: write %s: %w", dst, err))
		}
		var buf []byte
		if read == 0 {
			buf = held
		} else {
			select {
			case buf = <-free:
			case <-cw.failed():
				return fail(nil)
			}
		}
		// Reads after the held-back start end on chunk boundaries (those
		// of the slot's writes; with 1 MiB, those of a default chunk list).
		n := min(int64(len(buf)), cs-read%cs, size-read)
		m, err := io.ReadFull(r, buf[:n])
		if m > 0 && h != nil {
			h.Write(buf[:m])
		}
		if err != nil && m > 0 && read > 0 {
			// What r handed out before its error is written too (a
			// verifying reader hands out only verified bytes).
			select {
			case filled <- chunk{buf: buf[:m], off: read}:
			case <-cw.failed():
				return fail(nil)
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return drain(fmt.Errorf("slot: payload ended after %d of %d bytes: %w", read+int64(m), size, ErrSize))
			}
			return drain(fmt.Errorf("slot: read payload: %w", err))
		}
		if read == 0 {
			read += n // held back until the end
			continue
		}
		select {
		case filled <- chunk{buf: buf[:n], off: read}:
		case <-cw.failed():
			return fail(nil)
		}
		read += n
	}
	// Read to EOF: verifying readers check their digest there.
	var one [1]byte
	if m, err := io.ReadFull(r, one[:]); m > 0 {
		return drain(fmt.Errorf("slot: payload longer than %d bytes: %w", size, ErrSize))
	} else if !errors.Is(err, io.EOF) {
		return drain(fmt.Errorf("slot: payload: %w", err))
	}
	close(filled)
	finished = true
	wg.Wait()
	if werr != nil {
		return zero, werr
	}
	if err := writeHeld(f, dst, held, cw.rb); err != nil {
		return zero, err
	}
	if w.Progress != nil && len(held) > 0 {
		w.Progress(size)
	}
	var d Digest
	if h != nil {
		h.Sum(d[:0])
	}
	return d, nil
}

// ReadBack returns the SHA-256 of the first size bytes of dst.
func ReadBack(dst string, size int64) (Digest, error) {
	var d Digest
	f, err := os.Open(dst)
	if err != nil {
		return d, fmt.Errorf("slot: read back: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, io.LimitReader(f, size), make([]byte, chunkSize))
	if err != nil {
		return d, fmt.Errorf("slot: read back %s: %w", dst, err)
	}
	if n != size {
		return d, fmt.Errorf("slot: read back %s: %d of %d bytes: %w", dst, n, size, ErrSize)
	}
	h.Sum(d[:0])
	return d, nil
}

// compareAt reads len(want) bytes of f at off into rb and compares.
func compareAt(f *os.File, dst string, off int64, want, rb []byte) error {
	got := rb[:len(want)]
	if _, err := f.ReadAt(got, off); err != nil {
		return fmt.Errorf("slot: read back %s at %d: %w", dst, off, err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && got[i] == want[i] {
			i++
		}
		return fmt.Errorf("slot: %s: byte %d reads back %#02x, written %#02x: %w", dst, off+int64(i), got[i], want[i], ErrReadBack)
	}
	return nil
}
