package slot

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// chunk is one filled buffer and where it goes.
type chunk struct {
	buf []byte
	off int64
}

// chunkWriter is the writing side of Writer.Write: it writes chunks,
// pushes each window of them to the media and verifies it by reading it
// back, and hands the buffers back.
type chunkWriter struct {
	f        *os.File
	dst      string
	window   int64
	free     chan<- []byte
	progress func(int64)
	rb       []byte        // read-back buffer
	errc     chan struct{} // closed when run fails
	syncAll  bool          // sync_file_range unsupported here: fdatasync
}

func newChunkWriter(f *os.File, dst string, window, cs int64, free chan<- []byte, progress func(int64)) *chunkWriter {
	return &chunkWriter{f: f, dst: dst, window: window, free: free, progress: progress,
		rb: make([]byte, cs), errc: make(chan struct{})}
}

// failed is closed when run returned an error.
func (c *chunkWriter) failed() <-chan struct{} { return c.errc }

var errStopped = errors.New("slot: write stopped")

// beforeReadBack is a test seam: called when a window is on the media and
// about to be read back.
var beforeReadBack = func(dst string, off, n int64) {}

// run writes what arrives on filled until it is closed, then makes the
// file durable and verifies the rest. It returns at once when stop closes.
func (c *chunkWriter) run(filled <-chan chunk, stop <-chan struct{}) (err error) {
	defer func() {
		if err != nil {
			close(c.errc)
		}
	}()
	var cur, prev []chunk
	var curLen, written int64
	for {
		var ch chunk
		var ok bool
		select {
		case ch, ok = <-filled:
		case <-stop:
			return errStopped
		}
		if !ok {
			select {
			case <-stop:
				return errStopped
			default:
			}
			break
		}
		if _, err := c.f.WriteAt(ch.buf, ch.off); err != nil {
			return fmt.Errorf("slot: write %s at %d: %w", c.dst, ch.off, err)
		}
		written += int64(len(ch.buf))
		if c.progress != nil {
			c.progress(written)
		}
		cur = append(cur, ch)
		curLen += int64(len(ch.buf))
		if curLen < c.window {
			continue
		}
		// Start this window's write-back, then finish the previous one.
		if err := c.syncRange(cur, unix.SYNC_FILE_RANGE_WRITE); err != nil {
			return err
		}
		if err := c.verify(prev); err != nil {
			return err
		}
		prev, cur, curLen = cur, nil, 0
	}
	if err := c.f.Sync(); err != nil {
		return fmt.Errorf("slot: fsync %s: %w", c.dst, err)
	}
	if err := c.verify(prev); err != nil {
		return err
	}
	return c.verify(cur)
}

// verify waits until the chunks are on the media, drops them from the page
// cache (so that the read-back reads the media), compares them with what
// was written and frees their buffers.
func (c *chunkWriter) verify(chs []chunk) error {
	if len(chs) == 0 {
		return nil
	}
	if err := c.syncRange(chs, unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER); err != nil {
		return err
	}
	start, n := span(chs)
	_ = unix.Fadvise(int(c.f.Fd()), start, n, unix.FADV_DONTNEED) // advisory only
	beforeReadBack(c.dst, start, n)
	for _, ch := range chs {
		if err := compareAt(c.f, c.dst, ch.off, ch.buf, c.rb); err != nil {
			return err
		}
		c.free <- ch.buf[:cap(ch.buf)]
	}
	return nil
}

func span(chs []chunk) (off, n int64) {
	last := chs[len(chs)-1]
	return chs[0].off, last.off + int64(len(last.buf)) - chs[0].off
}

// syncRange is sync_file_range over the chunks; where the file system or
// device does not support it, fdatasync of the whole file.
func (c *chunkWriter) syncRange(chs []chunk, flags int) error {
	if len(chs) == 0 {
		return nil
	}
	if !c.syncAll {
		off, n := span(chs)
		err := unix.SyncFileRange(int(c.f.Fd()), off, n, flags)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ESPIPE) && !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EOPNOTSUPP) {
			return fmt.Errorf("slot: sync_file_range %s: %w", c.dst, err)
		}
		c.syncAll = true
	}
	if flags&unix.SYNC_FILE_RANGE_WAIT_AFTER == 0 {
		return nil // only starting write-back: fdatasync waits later
	}
	if err := unix.Fdatasync(int(c.f.Fd())); err != nil {
		return fmt.Errorf("slot: fdatasync %s: %w", c.dst, err)
	}
	return nil
}
