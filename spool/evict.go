package spool

import (
	"errors"
	"fmt"
	"os"

	"medagent/telemetry"
)

// evictOrder is the eviction policy when the spool is full: the oldest
// telemetry goes first, then the oldest events, then the oldest alarms.
// A new record of any class (an alarm in particular) is never refused
// because of old ones.
var evictOrder = [3]telemetry.Class{telemetry.ClassTelemetry, telemetry.ClassEvent, telemetry.ClassAlarm}

// makeRoom evicts whole segments until need more bytes fit. w.mu held.
func (w *Writer) makeRoom(need int64) error {
	// The reader deletes acknowledged segments behind our back: look at
	// the disk before evicting anything.
	if err := w.refreshSizes(); err != nil {
		return err
	}
	for w.total+need > w.opts.MaxBytes {
		ok, err := w.evictOne()
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %d bytes needed, %d of %d in use in %s", ErrFull, need, w.total, w.opts.MaxBytes, w.opts.Dir)
		}
	}
	return nil
}

// refreshSizes drops the sealed segments the reader has deleted.
func (w *Writer) refreshSizes() error {
	w.total = 0
	for _, cl := range w.logs {
		nums, err := listSegments(cl.dir)
		if err != nil {
			return err
		}
		present := make(map[uint64]bool, len(nums))
		for _, n := range nums {
			present[n] = true
		}
		active := cl.segs[len(cl.segs)-1]
		kept := cl.segs[:0]
		for _, s := range cl.segs[:len(cl.segs)-1] {
			if present[s.num] {
				kept = append(kept, s)
			}
		}
		cl.segs = append(kept, active)
		for _, s := range cl.segs {
			w.total += s.size
		}
	}
	return nil
}

// evictOne deletes the oldest segment of the least important class that
// has records, counting the unacknowledged records it held.
func (w *Writer) evictOne() (bool, error) {
	cur, err := loadCursor(w.opts.ReaderDir)
	if err != nil {
		// Count as if nothing were acknowledged; eviction must go on.
		w.log.Warn("spool: cannot read the ack cursor for eviction counts", "err", err)
		cur = cursorState{}
	}
	for _, c := range evictOrder {
		cl := w.logs[classIndex(c)]
		if len(cl.segs) == 1 {
			if cl.size == cl.dataStart {
				continue // nothing but an empty active segment
			}
			if err := w.roll(cl); err != nil {
				return false, err
			}
		}
		victim := cl.segs[0]
		p := cl.path(victim.num)
		n, err := countFrom(p, victim.num, cur.Cursor[classIndex(c)])
		if err != nil {
			w.log.Warn("spool: cannot count records of evicted segment", "class", c.String(), "segment", victim.num, "err", err)
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("spool: evict %s: %w", p, err)
		}
		if err := syncDir(cl.dir); err != nil {
			return false, fmt.Errorf("spool: evict %s: %w", p, err)
		}
		cl.segs = cl.segs[1:]
		w.total -= victim.size
		w.state.Evicted[classIndex(c)] += n
		if err := writeFileDurable(w.opts.Dir, writerFile, encodeWriterState(w.state)); err != nil {
			return false, err
		}
		w.log.Warn("spool: full, evicted oldest segment", "class", c.String(), "segment", victim.num, "records", n)
		return true, nil
	}
	return false, nil
}

// countFrom counts the valid frames of segment file p at or after cursor.
func countFrom(p string, num uint64, cursor pos) (uint64, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	h, err := readSegHeader(f, nil, false)
	if err != nil {
		return 0, err
	}
	var n uint64
	err = walkFrames(newScanner(f), h.DataStart, fi.Size(), func(off int64, _ []byte) {
		if !(pos{num, off}).less(cursor) {
			n++
		}
	})
	return n, err
}

// walkFrames calls fn for each valid frame in [start, size), skipping
// damaged bytes. It returns the number of damaged spans skipped.
func walkFrames(sc *scanner, start, size int64, fn func(off int64, body []byte)) error {
	_, err := walkFramesCount(sc, start, size, fn)
	return err
}

func walkFramesCount(sc *scanner, start, size int64, fn func(off int64, body []byte)) (bad int, err error) {
	off := start
	for off < size {
		body, n, ferr := sc.frameAt(off, size)
		if ferr == nil {
			fn(off, body)
			off += int64(n)
			continue
		}
		if !errors.Is(ferr, errCorrupt) && !errors.Is(ferr, errIncomplete) {
			return bad, ferr
		}
		bad++
		next, found, _ := sc.resync(off, size)
		if !found {
			return bad, nil
		}
		off = next
	}
	return bad, nil
}
