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
var evictOrder = []telemetry.Class{telemetry.ClassTelemetry, telemetry.ClassEvent, telemetry.ClassAlarm}

// onlyTelemetry is what the writer's own reports may evict.
var onlyTelemetry = evictOrder[:1]

// makeRoom evicts whole segments until need more bytes fit in MaxBytes.
// internal (a loss report) evicts telemetry only. w.mu held.
func (w *Writer) makeRoom(need int64, internal bool) error {
	// The reader deletes acknowledged segments behind our back: look at
	// the disk before evicting anything.
	if err := w.refreshSizes(); err != nil {
		return err
	}
	order := evictOrder
	if internal {
		order = onlyTelemetry
	}
	for w.total+need > w.opts.MaxBytes {
		ok, err := w.evictOne(order, reasonMaxBytes, false)
		if err != nil {
			return err
		}
		if !ok {
			if internal {
				return fmt.Errorf("%w: max_bytes reached and no telemetry left", errNoRoom)
			}
			return fmt.Errorf("%w: %d bytes needed, %d of %d in use in %s", ErrFull, need, w.total, w.opts.MaxBytes, w.opts.Dir)
		}
	}
	return nil
}

// freeSpace makes room on a full file system for a record of class:
// telemetry is evicted first (exactly as at MaxBytes); then, for alarms
// and events, the reserve gives a chunk back; then, except for the
// writer's own reports, older events and alarms are evicted. It returns
// false when nothing more can be freed. w.mu held.
func (w *Writer) freeSpace(class telemetry.Class, need int64, internal bool) (bool, error) {
	if err := w.refreshSizes(); err != nil {
		return false, err
	}
	// What the reader acknowledged goes first (ReaderDir apart: the
	// writer deletes it).
	before := w.total
	if err := w.dropAcked(); err != nil {
		return false, err
	}
	if w.total < before {
		return true, nil
	}
	// Sealing the only telemetry segment to evict it takes a block from
	// the reserve for the new one: worth it for an alarm or event (the
	// old segment is freed at once), never for telemetry.
	if ok, err := w.evictOne(onlyTelemetry, reasonDiskFull, class != telemetry.ClassTelemetry); ok || err != nil {
		return ok, err
	}
	if class == telemetry.ClassTelemetry {
		return false, nil
	}
	if w.res.release(need) {
		w.log.Warn("spool: file system full, reserve used", "dir", w.opts.Dir, "class", class.String(), "reserve_left", w.res.size)
		return true, nil
	}
	if internal {
		return false, nil
	}
	return w.evictOne(evictOrder[1:], reasonDiskFull, true)
}

// regrowReserve grows a short reserve back, evicting sealed telemetry
// segments if the file system has no room for it: the reserve comes
// before telemetry. w.mu held.
func (w *Writer) regrowReserve() {
	tl := w.logs[classIndex(telemetry.ClassTelemetry)]
	for {
		err := w.res.grow()
		if err == nil {
			return
		}
		if !isNoSpace(err) {
			w.log.Warn("spool: cannot grow the reserve", "err", err)
			return
		}
		if err := w.refreshSizes(); err != nil || len(tl.segs) < 2 {
			return
		}
		if ok, err := w.evictSegment(tl, reasonDiskFull, false); !ok || err != nil {
			return
		}
	}
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

// evictOne evicts the oldest segment of the first class in order that
// has records.
func (w *Writer) evictOne(order []telemetry.Class, reason lossReason, useReserve bool) (bool, error) {
	for _, c := range order {
		ok, err := w.evictSegment(w.logs[classIndex(c)], reason, useReserve)
		if ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// evictSegment deletes the oldest segment of cl (sealing the active one
// first if it is the only one; with useReserve the new segment may come
// from the reserve), counting and recording for the report the
// unacknowledged records it held. It returns false if cl has no records
// or no room to seal its active segment. w.mu held.
func (w *Writer) evictSegment(cl *classLog, reason lossReason, useReserve bool) (bool, error) {
	if len(cl.segs) == 1 {
		if cl.size == cl.dataStart {
			return false, nil // nothing but an empty active segment
		}
		roll := w.roll
		if useReserve {
			roll = w.rollReserve
		}
		if err := roll(cl); err != nil {
			if isNoSpace(err) {
				return false, nil
			}
			return false, err
		}
		if len(cl.segs) == 1 {
			return true, nil // the roll dropped the old segment as acknowledged
		}
	}
	c := cl.class
	victim := cl.segs[0]
	p := cl.path(victim.num)
	// The cursor first, then the unlink: a reader stops delivering from
	// a segment once it is unlinked (Reader.nextIn), so what it delivers
	// from the victim after this cursor (counted as lost too) is only what
	// it delivers in the instant before the unlink, plus what it had
	// delivered without its acknowledgement reaching the disk.
	cur, err := loadCursor(w.opts.ReaderDir)
	if err != nil {
		// Count as if nothing were acknowledged; eviction must go on.
		w.log.Warn("spool: cannot read the ack cursor for eviction counts", "err", err)
		cur = cursorState{}
	}
	f, oerr := os.Open(p)
	if f != nil {
		defer f.Close()
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("spool: evict %s: %w", p, err)
	}
	if err := syncDir(cl.dir); err != nil {
		return false, fmt.Errorf("spool: evict %s: %w", p, err)
	}
	var losses []loss
	var n uint64
	err = oerr
	if err == nil {
		losses, n, err = w.lossesIn(f, c, victim.num, cur.Cursor[classIndex(c)])
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) { // not there: the reader deleted it as acknowledged
		w.log.Warn("spool: cannot count records of evicted segment", "class", c.String(), "segment", victim.num, "err", err)
	}
	cl.segs = cl.segs[1:]
	w.total -= victim.size
	w.state.Evicted[classIndex(c)] += n
	for _, l := range losses {
		l.Reason = reason
		w.state.addLoss(l)
	}
	if err := w.saveState(); err != nil {
		return false, err
	}
	why := ReasonMaxBytes
	if reason == reasonDiskFull {
		why = ReasonDiskFull
	}
	w.log.Warn("spool: full, evicted oldest segment", "class", c.String(), "segment", victim.num, "records", n, "reason", why)
	return true, nil
}

// lossesIn reads the records of segment file f at or after cursor: their
// number and, per stream, the seq range and time span (records that do
// not decode count in a run without a stream).
func (w *Writer) lossesIn(f *os.File, c telemetry.Class, num uint64, cursor pos) ([]loss, uint64, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	h, err := readSegHeader(f, nil, false)
	if err != nil {
		return nil, 0, err
	}
	runs := map[string]*loss{}
	var order []string
	var n uint64
	var scratch []byte
	err = walkFrames(newScanner(f), h.DataStart, fi.Size(), func(off int64, body []byte) {
		if (pos{num, off}).less(cursor) {
			return
		}
		n++
		var ad [adLen]byte
		var e entry
		var derr error
		e, scratch, derr = decodeBody(body, w.aead, frameAD(&ad, c, num, off), scratch)
		if derr != nil {
			e = entry{}
		}
		l := runs[e.Stream]
		if l == nil {
			l = &loss{Kind: lossEvicted, Class: c, Stream: e.Stream, First: e.Seq, From: e.Time}
			runs[e.Stream] = l
			order = append(order, e.Stream)
		}
		l.Count++
		l.First, l.Last = min(l.First, e.Seq), max(l.Last, e.Seq)
		if derr == nil {
			if l.From.IsZero() || e.Time.Before(l.From) {
				l.From = e.Time
			}
			if e.Time.After(l.To) {
				l.To = e.Time
			}
		}
	})
	out := make([]loss, 0, len(order))
	for _, s := range order {
		out = append(out, *runs[s])
	}
	return out, n, err
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
