package spool

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"medagent/telemetry"
)

// maxAckedAhead bounds the acknowledgements remembered for records above
// the cursor that are not in flight (acks of records sent before a
// Rewind). It is far above any sensible MQTT in-flight window.
const maxAckedAhead = 1 << 16

// maxInFlight bounds the records of one class delivered by Next and not
// yet acknowledged; Next fails beyond it (a consumer that never acks).
var maxInFlight = 1 << 16

// Reader tails the spool written by a Writer, possibly in another process.
// Next serves alarms first, then events, then telemetry; within a stream
// records come in append order. The reader remembers per class which
// records are acknowledged and persists the lowest unacknowledged position
// (the cursor); after a crash it starts again from there, so records are
// delivered at least once and duplicates are limited to the in-flight
// window. Segments entirely below the persisted cursor are deleted.
//
// A Reader is safe for concurrent use, but records come from one position
// per class, so one consumer goroutine is the expected use.
type Reader struct {
	opts Options
	log  *slog.Logger
	aead cipher.AEAD
	lock *os.File

	mu          sync.Mutex
	cls         [3]*classReader
	cur         *slotFile // Dir/reader.cursor; nil until it could be made
	corrupt     uint64
	dirty       bool
	lastPersist time.Time
	lastWarn    time.Time
	closed      bool
}

type classReader struct {
	class     telemetry.Class
	dir       string
	f         *os.File
	sc        *scanner
	seg       uint64    // segment open in f
	sealed    bool      // a newer segment exists: seg will not grow
	limit     int64     // durable end of seg per the writer's watermark
	limitAt   time.Time // when limit was last read
	lastList  time.Time
	read      pos              // next position to read
	high      pos              // highest read position ever (Rewind keeps it)
	order     []pos            // delivered records in order
	inflight  map[pos]bool     // delivered: acked?
	ackedSkip map[pos]struct{} // acked, not in flight (after Rewind)
	scratch   []byte
}

// OpenReader opens the spool in opts.Dir for reading. It takes
// Dir/reader.lock (a second reader gets ErrLocked), loads the persisted
// cursor and checks the key against the existing segments.
func OpenReader(opts Options) (*Reader, error) {
	aead, lock, err := openIn(&opts, "reader.lock", true)
	if err != nil {
		return nil, err
	}
	os.Remove(filepath.Join(opts.ReaderDir, cursorFile+tempExt)) // left by a version 1 reader
	var cur cursorState
	cf, body, err := openSlotFile(opts.ReaderDir, cursorFile, cursorMagic, cursorSlot, legacyCursor)
	switch {
	case err == nil && body != nil:
		if cur, err = decodeCursor(body); err != nil {
			cf.close()
			unlockFile(lock)
			return nil, cursorErr(opts.ReaderDir, err)
		}
	case isNoSpace(err):
		// A new cursor file on a full file system: read from the start
		// (nothing was ever acknowledged) and make the file later.
		opts.Logger.Warn("spool: no space for the ack cursor yet", "err", err)
	case err != nil:
		unlockFile(lock)
		return nil, err
	}
	r := &Reader{opts: opts, log: opts.Logger, aead: aead, lock: lock, cur: cf, corrupt: cur.Corrupt, lastPersist: time.Now()}
	for _, c := range classes {
		i := classIndex(c)
		r.cls[i] = &classReader{
			class: c, dir: filepath.Join(opts.Dir, classDirName(c)), sc: newScanner(nil),
			read: cur.Cursor[i], inflight: map[pos]bool{}, ackedSkip: map[pos]struct{}{},
		}
		if err := r.checkKey(r.cls[i]); err != nil {
			if cf != nil {
				cf.close()
			}
			unlockFile(lock)
			return nil, err
		}
	}
	return r, nil
}

// checkKey opens the newest segment's header so a wrong key fails at
// open rather than as garbage later.
func (r *Reader) checkKey(cr *classReader) error {
	nums, err := listSegments(cr.dir)
	if err != nil || len(nums) == 0 {
		return err
	}
	p := filepath.Join(cr.dir, segmentName(nums[len(nums)-1]))
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	if _, err := readSegHeader(f, r.aead, true); err != nil {
		return fmt.Errorf("spool: %s: %w", p, err)
	}
	return nil
}

// Next returns the next record, waiting (polling every PollInterval)
// until one is available or ctx is done. The Payload is the caller's.
func (r *Reader) Next(ctx context.Context) (Record, error) {
	var t *time.Timer
	for {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return Record{}, ErrClosed
		}
		for _, c := range classes {
			rec, ok, err := r.nextIn(r.cls[classIndex(c)])
			if err != nil || ok {
				if ok {
					// Keep the cursor fresh under a steady stream too.
					_ = r.persist(false)
				}
				r.mu.Unlock()
				return rec, err
			}
		}
		_ = r.persist(false)
		r.mu.Unlock()
		if t == nil {
			t = time.NewTimer(r.opts.PollInterval)
			defer t.Stop()
		} else {
			t.Reset(r.opts.PollInterval)
		}
		select {
		case <-ctx.Done():
			return Record{}, ctx.Err()
		case <-t.C:
		}
	}
}

// nextIn reads the next deliverable record of one class. r.mu held.
func (r *Reader) nextIn(cr *classReader) (Record, bool, error) {
	for {
		if cr.f == nil {
			ok, err := r.openAt(cr)
			if err != nil || !ok {
				return Record{}, false, err
			}
		}
		if cr.cursor(); len(cr.order) >= maxInFlight { // cursor pops acked records
			return Record{}, false, fmt.Errorf("spool: %d %s records delivered and not acknowledged: ack them or Rewind", len(cr.order), cr.class)
		}
		if unlinked(cr.f) {
			// Evicted under us: the writer counted what we had not
			// acknowledged as lost, so none of it may be delivered now.
			cr.f.Close()
			cr.f = nil
			cr.read = pos{cr.seg + 1, 0}
			continue
		}
		p := cr.read
		if p.Off >= cr.limit {
			// Only records known durable are delivered: refresh the
			// writer's watermark when we reach it, at most twice per
			// poll interval (an idle class must not cost every Next).
			if time.Since(cr.limitAt) < r.opts.PollInterval/2 {
				return Record{}, false, nil
			}
			cr.limitAt = time.Now()
			var ok bool
			if cr.limit, ok = readLimit(r.opts.Dir, cr.f, classIndex(cr.class), cr.seg); !ok || p.Off >= cr.limit {
				if cr.isSealed(r.opts.PollInterval) {
					cr.limit = 1 << 62 // synced before the next segment was made
				} else {
					return Record{}, false, nil
				}
			}
		}
		body, n, err := cr.sc.frameAt(p.Off, cr.limit)
		if err == nil {
			cr.read.Off += int64(n)
			if _, ok := cr.ackedSkip[p]; ok {
				delete(cr.ackedSkip, p)
				continue
			}
			var ad [adLen]byte
			var e entry
			e, cr.scratch, err = decodeBody(body, r.aead, frameAD(&ad, cr.class, p.Seg, p.Off), cr.scratch)
			if err != nil {
				r.skipped(cr, p, err)
				continue
			}
			cr.order = append(cr.order, p)
			cr.inflight[p] = false
			if cr.high.less(cr.read) {
				cr.high = cr.read
			}
			return Record{
				Class: cr.class, Stream: e.Stream, Seq: e.Seq, Time: e.Time,
				Payload: append([]byte(nil), e.Payload...),
				ID:      ID{Class: cr.class, Segment: p.Seg, Offset: p.Off},
			}, true, nil
		}
		if !errors.Is(err, errIncomplete) && !errors.Is(err, errCorrupt) {
			return Record{}, false, fmt.Errorf("spool: read %s: %w", cr.f.Name(), err)
		}
		if !cr.isSealed(r.opts.PollInterval) {
			// Forget buffered bytes: the writer may truncate a torn tail
			// and write new frames over it.
			cr.sc.buf = cr.sc.buf[:0]
			cr.limit = 0 // and look at the watermark again
			// Nothing new, a frame being written, a torn tail (the writer
			// truncates it at restart) or damage (a length field hit
			// looks incomplete): skip only once a valid frame follows,
			// which the writer cannot have written after a partial one.
			if next, ok := cr.resyncTo(); ok {
				r.skipped(cr, p, errCorrupt)
				cr.read.Off = next
				continue
			}
			return Record{}, false, nil
		}
		// Sealed: the writer finished this segment before starting the
		// next, so a fresh read sees all of it.
		cr.limit = 1 << 62
		if _, _, err := cr.sc.frameAt(p.Off, cr.limit); err == nil {
			continue
		}
		if next, ok := cr.resyncTo(); ok {
			r.skipped(cr, p, errCorrupt)
			cr.read.Off = next
			continue
		}
		if fi, err := cr.f.Stat(); err == nil && fi.Size() > p.Off {
			r.skipped(cr, p, errCorrupt) // damaged bytes at the end
		}
		cr.f.Close()
		cr.f = nil
		cr.read = pos{cr.seg + 1, 0}
	}
}

// unlinked reports whether f's file was deleted (fstat's link count is
// 0): the writer evicted the segment while it was being read.
func unlinked(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink == 0
}

func (r *Reader) skipped(cr *classReader, p pos, err error) {
	r.corrupt++
	r.dirty = true
	r.log.Warn("spool: corrupt frame skipped", "class", cr.class.String(), "segment", p.Seg, "offset", p.Off, "err", err)
}

// resyncTo finds the next valid frame after the read position.
func (cr *classReader) resyncTo() (int64, bool) {
	fi, err := cr.f.Stat()
	if err != nil {
		return 0, false
	}
	next, found, _ := cr.sc.resync(cr.read.Off, fi.Size())
	return next, found
}

// isSealed reports whether a newer segment exists, listing the directory
// at most once per interval.
func (cr *classReader) isSealed(every time.Duration) bool {
	if cr.sealed || time.Since(cr.lastList) < every {
		return cr.sealed
	}
	cr.lastList = time.Now()
	nums, err := listSegments(cr.dir)
	if err == nil && len(nums) > 0 && nums[len(nums)-1] > cr.seg {
		cr.sealed = true
	}
	return cr.sealed
}

// openAt opens the first existing segment at or after cr.read. It returns
// false when there is none yet.
func (r *Reader) openAt(cr *classReader) (bool, error) {
	for {
		nums, err := listSegments(cr.dir)
		if err != nil {
			return false, err
		}
		i := 0
		for i < len(nums) && nums[i] < cr.read.Seg {
			i++
		}
		if i == len(nums) {
			return false, nil
		}
		num := nums[i]
		if num != cr.read.Seg {
			cr.read = pos{num, 0} // evicted or deleted under us
		}
		p := filepath.Join(cr.dir, segmentName(num))
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			continue // evicted between list and open
		}
		if err != nil {
			return false, fmt.Errorf("spool: %w", err)
		}
		h, err := readSegHeader(f, r.aead, true)
		if err == nil && (h.Class != cr.class || h.Num != num) {
			err = fmt.Errorf("header says class %d segment %d", h.Class, h.Num)
		}
		if err != nil {
			f.Close()
			if errors.Is(err, errCorrupt) && i < len(nums)-1 {
				r.log.Warn("spool: segment with corrupt header skipped", "class", cr.class.String(), "segment", num)
				r.corrupt++
				cr.read = pos{num + 1, 0}
				continue
			}
			return false, fmt.Errorf("spool: %s: %w", p, err)
		}
		cr.f, cr.seg, cr.limit = f, num, 0
		cr.sealed = i < len(nums)-1
		cr.lastList = time.Now()
		cr.sc.reset(f)
		cr.read.Off = max(cr.read.Off, h.DataStart)
		return true, nil
	}
}

// cursor is the lowest position not yet acknowledged.
func (cr *classReader) cursor() pos {
	for len(cr.order) > 0 && cr.inflight[cr.order[0]] {
		delete(cr.inflight, cr.order[0])
		cr.order = cr.order[1:]
	}
	if len(cr.order) > 0 {
		return cr.order[0]
	}
	return cr.read
}

// Ack records that the record with this ID was delivered upstream. Acks
// may come in any order; acking twice is harmless.
func (r *Reader) Ack(id ID) error {
	if err := validClass(id.Class); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	cr := r.cls[classIndex(id.Class)]
	p := pos{id.Segment, id.Offset}
	if p.less(cr.cursor()) {
		return nil
	}
	if _, ok := cr.inflight[p]; ok {
		cr.inflight[p] = true
	} else {
		if !p.less(cr.high) {
			return fmt.Errorf("spool: ack of %s record at segment %d offset %d, which was not delivered", id.Class, id.Segment, id.Offset)
		}
		if len(cr.ackedSkip) >= maxAckedAhead {
			return fmt.Errorf("spool: more than %d out-of-window acks", maxAckedAhead)
		}
		cr.ackedSkip[p] = struct{}{}
	}
	r.dirty = true
	_ = r.persist(false)
	return nil
}

// Rewind makes Next start again from the oldest unacknowledged record of
// each class (records acknowledged out of order are not sent again). The
// uplink calls it after reconnecting.
func (r *Reader) Rewind() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	for _, cr := range r.cls {
		c := cr.cursor()
		for p, acked := range cr.inflight {
			if acked && len(cr.ackedSkip) < maxAckedAhead {
				cr.ackedSkip[p] = struct{}{}
			}
		}
		clear(cr.inflight)
		cr.order = nil
		cr.read = c
		if cr.f != nil {
			cr.f.Close()
			cr.f = nil
		}
	}
	return nil
}

// persist writes the cursor if it changed and CursorInterval has passed
// (or force), then deletes segments that are entirely acked. r.mu held.
//
// A failure is logged (at most every 10 s) and retried at the next
// interval, and publishing goes on: the cursor is rewritten in place in
// a preallocated file, so a full file system cannot make it fail, and a
// failure that does happen (an I/O error) must not turn into reconnects
// that send the backlog again and again. Close reports it.
func (r *Reader) persist(force bool) error {
	if !r.dirty || (!force && time.Since(r.lastPersist) < r.opts.CursorInterval) {
		return nil
	}
	err := r.writeCursor()
	if err != nil && time.Since(r.lastWarn) >= 10*time.Second {
		r.lastWarn = time.Now()
		r.log.Warn("spool: cannot persist the ack cursor, will retry", "err", err)
	}
	return err
}

func (r *Reader) writeCursor() error {
	r.lastPersist = time.Now()
	if r.cur == nil {
		cf, _, err := openSlotFile(r.opts.ReaderDir, cursorFile, cursorMagic, cursorSlot, legacyCursor)
		if err != nil {
			return err
		}
		r.cur = cf
	}
	s := cursorState{Corrupt: r.corrupt}
	for i, cr := range r.cls {
		s.Cursor[i] = cr.cursor()
		for p := range cr.ackedSkip {
			if p.less(s.Cursor[i]) {
				delete(cr.ackedSkip, p)
			}
		}
	}
	if err := r.cur.write(encodeCursor(s)); err != nil {
		return err
	}
	r.dirty = false
	if r.opts.splitDirs() {
		return nil // the Writer deletes what the cursor covers
	}
	// Only now that the cursor is durable may acked segments go.
	for i, cr := range r.cls {
		nums, err := listSegments(cr.dir)
		if err != nil {
			return err
		}
		removed := false
		for _, n := range nums[:max(len(nums)-1, 0)] { // never the newest
			if n >= s.Cursor[i].Seg {
				break
			}
			if err := os.Remove(filepath.Join(cr.dir, segmentName(n))); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("spool: delete acked segment: %w", err)
			}
			removed = true
		}
		if removed {
			if err := syncDir(cr.dir); err != nil {
				return fmt.Errorf("spool: delete acked segment: %w", err)
			}
		}
	}
	return nil
}

// Stats reports the spool as this reader sees it (its in-memory cursor).
func (r *Reader) Stats() Stats {
	r.mu.Lock()
	cur := cursorState{Corrupt: r.corrupt}
	for i, cr := range r.cls {
		cur.Cursor[i] = cr.cursor()
	}
	r.mu.Unlock()
	s, err := computeStats(r.opts.Dir, r.aead, cur)
	if err != nil {
		r.log.Warn("spool: stats", "err", err)
	}
	return s
}

// Close persists the cursor and releases the lock.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	r.closed = true
	err := r.persist(true)
	for _, cr := range r.cls {
		if cr.f != nil {
			cr.f.Close()
		}
	}
	if r.cur != nil {
		if e := r.cur.close(); e != nil && err == nil {
			err = fmt.Errorf("spool: close: %w", e)
		}
	}
	if e := unlockFile(r.lock); e != nil && err == nil {
		err = fmt.Errorf("spool: close: %w", e)
	}
	return err
}
