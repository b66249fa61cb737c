package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// The reserve keeps file-system space for alarms and events. It is a file,
// Dir/writer.reserve, of Options.ReserveBytes preallocated bytes. When the
// file system refuses a write and there is no telemetry left to evict, an
// alarm or event (or the writer's own housekeeping: a new segment, its
// loss reports) shrinks the reserve by a chunk and retries; telemetry never
// does. The writer grows the reserve back (evicting telemetry if it must)
// at most once per reserveRetry while it is short.
const (
	reserveFile  = "writer.reserve"
	reserveChunk = 64 << 10
	reserveRetry = time.Second
)

type reserve struct {
	f       *os.File
	want    int64 // Options.ReserveBytes
	size    int64 // bytes held
	block   int64 // the file system's allocation unit
	lastTry time.Time
}

// openReserve opens the reserve and grows it as far as the file system
// allows; a short reserve is grown later.
func openReserve(dir string, want int64) (*reserve, error) {
	p := filepath.Join(dir, reserveFile)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("spool: open %s: %w", p, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("spool: %w", err)
	}
	r := &reserve{f: f, want: want, block: 4096}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Blksize > 0 {
		r.block = int64(st.Blksize)
	}
	// What the file holds is the reserve only if it is allocated: keep the
	// allocated prefix (a sparse tail after a crash is dropped).
	r.size = min(fi.Size(), want, allocated(fi))
	if r.size != fi.Size() {
		if err := f.Truncate(r.size); err != nil {
			f.Close()
			return nil, fmt.Errorf("spool: truncate %s: %w", p, err)
		}
	}
	if err := r.grow(); err != nil && !isNoSpace(err) {
		f.Close()
		return nil, err
	}
	return r, nil
}

// allocated is the number of bytes the file system has given fi.
func allocated(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}

// grow extends the reserve to its size chunk by chunk; it stops at the
// first refusal (the chunk is given back).
func (r *reserve) grow() error {
	r.lastTry = time.Now()
	for r.size < r.want {
		n := min(int64(reserveChunk), r.want-r.size)
		if err := preallocate(r.f, r.size, n); err != nil {
			r.f.Truncate(r.size)
			return fmt.Errorf("spool: grow %s: %w", r.f.Name(), err)
		}
		r.size += n
	}
	return nil
}

// short reports whether the reserve is below its size and a retry is due.
func (r *reserve) short() bool {
	return r.size < r.want && time.Since(r.lastTry) >= reserveRetry
}

// release gives at least n bytes (whole blocks) back to the file system;
// false when the reserve is empty. Only what is needed goes: on a file
// system that others fill too, whatever is released beyond it is gone.
func (r *reserve) release(n int64) bool {
	if r.size == 0 {
		return false
	}
	n = (max(n, 1) + r.block - 1) / r.block * r.block
	size := max(r.size-n, 0)
	if err := r.f.Truncate(size); err != nil {
		return false
	}
	r.size = size
	r.lastTry = time.Now() // do not take it straight back
	return true
}

func (r *reserve) close() error { return r.f.Close() }

// isNoSpace reports a write refused for lack of space (or quota).
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
