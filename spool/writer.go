package spool

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"medagent/telemetry"
)

// Times are stored as Unix nanoseconds: the range int64 can hold.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// ErrFull is returned when a record cannot fit even after evicting
// everything evictable (only possible for a record near MaxBytes).
var ErrFull = errors.New("spool: record does not fit in max_bytes")

// ErrNoSpace is returned when the file system refused a record even after
// evicting telemetry (and, for alarms and events, using the reserve and
// evicting older ones). The record's sequence number is consumed, so the
// receiver sees the gap, and the refusal is reported in ReportStream.
var ErrNoSpace = errors.New("spool: file system full, record not stored (its seq is skipped and reported)")

// Writer appends records to the spool. It is safe for concurrent use;
// concurrent Appends share fsyncs (group commit).
type Writer struct {
	opts Options
	log  *slog.Logger
	aead cipher.AEAD
	lock *os.File
	// writeAt and fdatasync are seams for tests (ENOSPC, slow disks).
	writeAt   func(f *os.File, b []byte, off int64) (int, error)
	fdatasync func(f *os.File) error
	wm        *os.File // Dir/writer.synced
	synced    [3]pos   // durable end of each class log
	stf       *slotFile
	res       *reserve

	mu      sync.Mutex
	cond    *sync.Cond
	logs    [3]*classLog
	total   int64
	state   writerState
	appends uint64
	fsyncs  uint64
	// Group commit: writeGen counts frames written, syncGen the frames
	// known durable; one appender at a time (syncing) fsyncs for all.
	writeGen, syncGen uint64
	syncing           bool
	dirty             [3]bool
	err               error // sticky: after a failed fsync nothing is trusted
	closed            bool
	buf               []byte
	lastReport        time.Time
	lastReportFail    time.Time
	reportEvery       time.Duration
	lastRefusalLog    time.Time
	refusedSinceLog   uint64
}

// classLog is the writer's view of one class directory.
type classLog struct {
	class     telemetry.Class
	dir       string
	segs      []segMeta // ascending; the last one is active
	f         *os.File  // active segment
	size      int64     // active segment size
	dataStart int64     // active segment's first frame offset
	seqs      map[string]uint64
}

type segMeta struct {
	num  uint64
	size int64
}

func (cl *classLog) path(num uint64) string { return filepath.Join(cl.dir, segmentName(num)) }

// OpenWriter opens (or creates) the spool in opts.Dir for appending. It
// takes Dir/writer.lock; a second writer gets ErrLocked. It checks the key
// against the newest segments, truncates torn tails and restores the
// per-stream sequence numbers.
func OpenWriter(opts Options) (*Writer, error) {
	aead, lock, err := open(&opts, "writer.lock")
	if err != nil {
		return nil, err
	}
	w := &Writer{opts: opts, log: opts.Logger, aead: aead, lock: lock, writeAt: (*os.File).WriteAt, fdatasync: fdatasync, reportEvery: reportEvery}
	w.cond = sync.NewCond(&w.mu)
	fail := func(err error) (*Writer, error) {
		for _, cl := range w.logs {
			if cl != nil && cl.f != nil {
				cl.f.Close()
			}
		}
		if w.wm != nil {
			w.wm.Close()
		}
		if w.stf != nil {
			w.stf.close()
		}
		if w.res != nil {
			w.res.close()
		}
		unlockFile(lock)
		return nil, err
	}
	if w.wm, err = openWatermark(opts.Dir); err != nil {
		return fail(err)
	}
	// The reserve first: it pays for the state file and the first
	// segments when the file system is full at start.
	if w.res, err = openReserve(opts.Dir, opts.ReserveBytes); err != nil {
		return fail(err)
	}
	var body []byte
	err = w.withReserve(func() (err error) {
		w.stf, body, err = openSlotFile(opts.Dir, writerFile, writerMagic, writerSlot, legacyWriterState)
		return err
	})
	if err != nil {
		return fail(err)
	}
	if body != nil {
		if w.state, err = decodeWriterState(body); err != nil {
			return fail(writerStateErr(opts.Dir, err))
		}
	}
	for _, c := range classes {
		var cl *classLog
		var torn uint64
		err := w.withReserve(func() (err error) {
			cl, torn, err = w.openClassLog(c)
			return err
		})
		if err != nil {
			return fail(err)
		}
		w.logs[classIndex(c)] = cl
		w.state.Torn += torn
		for _, s := range cl.segs {
			w.total += s.size
		}
		w.synced[classIndex(c)] = pos{cl.segs[len(cl.segs)-1].num, cl.size}
		// A refused record's seq stays consumed across a restart.
		for _, l := range w.state.Losses {
			if l.Kind == lossRefused && l.Class == c && l.Stream != "" {
				cl.seqs[l.Stream] = max(cl.seqs[l.Stream], l.Last)
			}
		}
	}
	// The class directories' entries must survive a power cut too.
	if err := syncDir(opts.Dir); err != nil {
		return fail(fmt.Errorf("spool: sync %s: %w", opts.Dir, err))
	}
	// Everything on disk is synced now (recovery fsynced it).
	if err := w.writeWatermark(false); err != nil {
		return fail(err)
	}
	if err := w.dropAcked(); err != nil {
		return fail(err)
	}
	return w, nil
}

// withReserve runs op; while it fails for lack of space, the reserve
// gives a chunk back and op runs again (housekeeping: new segments, the
// state file).
func (w *Writer) withReserve(op func() error) error {
	for {
		err := op()
		if err == nil || !isNoSpace(err) || !w.res.release(w.res.block) {
			return err
		}
		w.log.Warn("spool: file system full, reserve used for the spool's own files", "dir", w.opts.Dir, "reserve_left", w.res.size, "err", err)
	}
}

// saveState persists w.state in place. w.mu held.
func (w *Writer) saveState() error {
	return w.stf.write(encodeWriterState(w.state))
}

func fdatasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }

// writeWatermark publishes w.synced to the reader. w.mu held (or not yet
// shared).
func (w *Writer) writeWatermark(clean bool) error {
	if _, err := w.wm.WriteAt(encodeWatermark(watermark{Clean: clean, Synced: w.synced}), 0); err != nil {
		return fmt.Errorf("spool: write %s: %w", w.wm.Name(), err)
	}
	return nil
}

func (w *Writer) openClassLog(c telemetry.Class) (*classLog, uint64, error) {
	cl := &classLog{class: c, dir: filepath.Join(w.opts.Dir, classDirName(c)), seqs: map[string]uint64{}}
	if err := os.MkdirAll(cl.dir, 0o750); err != nil {
		return nil, 0, fmt.Errorf("spool: %w", err)
	}
	if ents, err := os.ReadDir(cl.dir); err == nil {
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), tempExt) {
				os.Remove(filepath.Join(cl.dir, e.Name())) // an unfinished segment creation
			}
		}
	}
	nums, err := listSegments(cl.dir)
	if err != nil {
		return nil, 0, err
	}
	if len(nums) == 0 {
		f, size, err := createSegment(cl.dir, segHeader{Class: c, Num: 1, Created: time.Now()}, w.aead)
		if err != nil {
			return nil, 0, err
		}
		cl.segs = []segMeta{{1, size}}
		cl.f, cl.size, cl.dataStart = f, size, size
		return cl, 0, nil
	}
	for _, n := range nums[:len(nums)-1] {
		fi, err := os.Stat(cl.path(n))
		if err != nil {
			return nil, 0, fmt.Errorf("spool: %w", err)
		}
		cl.segs = append(cl.segs, segMeta{n, fi.Size()})
	}
	num := nums[len(nums)-1]
	f, err := os.OpenFile(cl.path(num), os.O_RDWR, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("spool: %w", err)
	}
	end, torn, err := w.recoverActive(cl, f, num)
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	cl.segs = append(cl.segs, segMeta{num, end})
	cl.f, cl.size = f, end
	return cl, torn, nil
}

// recoverActive reads the newest segment: header (key check, seq
// snapshot), then every frame to bring the seqs up to date. Bytes after
// the last valid frame are a torn tail: truncated and synced.
func (w *Writer) recoverActive(cl *classLog, f *os.File, num uint64) (end int64, torn uint64, err error) {
	p := cl.path(num)
	h, err := readSegHeader(f, w.aead, true)
	if err != nil {
		return 0, 0, fmt.Errorf("spool: %s: %w", p, err)
	}
	if h.Class != cl.class || h.Num != num {
		return 0, 0, fmt.Errorf("spool: %s: header says class %d segment %d", p, h.Class, h.Num)
	}
	maps.Copy(cl.seqs, h.Seqs)
	cl.dataStart = h.DataStart
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("spool: %w", err)
	}
	size := fi.Size()
	sc := newScanner(f)
	var ad [adLen]byte
	var scratch []byte
	off := h.DataStart
	end = off
	for off < size {
		body, n, ferr := sc.frameAt(off, size)
		if ferr == nil {
			var e entry
			e, scratch, err = decodeBody(body, w.aead, frameAD(&ad, cl.class, num, off), scratch)
			if err == nil {
				cl.seqs[e.Stream] = max(cl.seqs[e.Stream], e.Seq)
			} else {
				w.log.Warn("spool: undecodable frame in active segment", "class", cl.class.String(), "segment", num, "offset", off)
			}
			off += int64(n)
			end = off
			continue
		}
		if !errors.Is(ferr, errCorrupt) && !errors.Is(ferr, errIncomplete) {
			return 0, 0, fmt.Errorf("spool: read %s: %w", p, ferr)
		}
		next, found, _ := sc.resync(off, size)
		if !found {
			break
		}
		w.log.Warn("spool: corrupt frame skipped", "class", cl.class.String(), "segment", num, "offset", off)
		off = next
	}
	if end < size {
		if err := f.Truncate(end); err != nil {
			return 0, 0, fmt.Errorf("spool: truncate torn tail of %s: %w", p, err)
		}
		torn = 1
		w.log.Warn("spool: torn tail truncated", "class", cl.class.String(), "segment", num, "bytes", size-end)
	}
	if err := f.Sync(); err != nil {
		return 0, 0, fmt.Errorf("spool: sync %s: %w", p, err)
	}
	return end, torn, nil
}

// waitDurable blocks (w.mu held) until frame generation gen is fsynced.
// The first waiter without a sync in flight becomes the leader and
// fsyncs every dirty segment for everyone written so far.
func (w *Writer) waitDurable(gen uint64) error {
	for w.syncGen < gen {
		if w.err != nil {
			return w.err
		}
		if w.syncing {
			w.cond.Wait()
			continue
		}
		w.syncing = true
		target := w.writeGen
		var files []*os.File
		var ends [3]pos
		for i, cl := range w.logs {
			ends[i] = pos{cl.segs[len(cl.segs)-1].num, cl.size}
			if w.dirty[i] {
				files = append(files, cl.f)
				w.dirty[i] = false
			}
		}
		w.mu.Unlock()
		var err error
		for _, f := range files {
			if e := w.fdatasync(f); e != nil && err == nil {
				err = fmt.Errorf("spool: fsync %s: %w", f.Name(), e)
			}
		}
		w.mu.Lock()
		w.syncing = false
		w.fsyncs++
		if err == nil {
			for i, e := range ends {
				if w.synced[i].less(e) {
					w.synced[i] = e
				}
			}
			err = w.writeWatermark(false)
		}
		if err != nil {
			w.err = err
		} else {
			w.syncGen = max(w.syncGen, target)
		}
		w.cond.Broadcast()
	}
	return nil
}

// rollReserve rolls cl, paying for the new segment from the reserve if
// the file system is full. w.mu held.
func (w *Writer) rollReserve(cl *classLog) error {
	return w.withReserve(func() error { return w.roll(cl) })
}

// roll seals the active segment of cl and starts the next one, whose
// header carries the current seq snapshot. w.mu held.
func (w *Writer) roll(cl *classLog) error {
	for w.syncing {
		w.cond.Wait() // never close a file the sync leader is using
	}
	if err := cl.f.Sync(); err != nil {
		w.err = fmt.Errorf("spool: fsync %s: %w", cl.f.Name(), err)
		return w.err
	}
	num := cl.segs[len(cl.segs)-1].num + 1
	f, size, err := createSegment(cl.dir, segHeader{Class: cl.class, Num: num, Created: time.Now(), Seqs: cl.seqs}, w.aead)
	if err != nil {
		return err
	}
	cl.f.Close()
	cl.f, cl.size, cl.dataStart = f, size, size
	cl.segs = append(cl.segs, segMeta{num, size})
	w.total += size
	// The old segment and the new header are synced.
	w.synced[classIndex(cl.class)] = pos{num, size}
	if err := w.writeWatermark(false); err != nil {
		w.err = err
		return err
	}
	return w.dropAcked()
}

// dropAcked deletes, when the Reader keeps its state apart (ReaderDir),
// the sealed segments wholly below its persisted cursor; the newest
// segment of a class always stays. w.mu held.
func (w *Writer) dropAcked() error {
	if !w.opts.splitDirs() {
		return nil
	}
	cur, err := loadCursor(w.opts.ReaderDir)
	if err != nil {
		w.log.Warn("spool: cannot read the reader's cursor; acknowledged segments stay until eviction", "err", err)
		return nil
	}
	for i, cl := range w.logs {
		n := 0
		for n < len(cl.segs)-1 && cl.segs[n].num < cur.Cursor[i].Seg {
			p := cl.path(cl.segs[n].num)
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("spool: delete acked segment: %w", err)
			}
			w.total -= cl.segs[n].size
			n++
		}
		if n > 0 {
			cl.segs = cl.segs[n:]
			if err := syncDir(cl.dir); err != nil {
				return fmt.Errorf("spool: delete acked segment: %w", err)
			}
		}
	}
	return nil
}

// Close syncs and closes the active segments and releases the lock.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if w.err == nil {
		// Losses not reported yet go into the log now, so the uplink can
		// publish them even if this writer does not come back.
		if err := w.flushReports(); err != nil {
			w.log.Warn("spool: close: loss reports not stored", "err", err)
		}
	}
	w.closed = true
	for w.syncing {
		w.cond.Wait()
	}
	var err error
	for _, cl := range w.logs {
		if e := cl.f.Sync(); e != nil && err == nil && w.err == nil {
			err = fmt.Errorf("spool: close: fsync %s: %w", cl.f.Name(), e)
		}
		cl.f.Close()
	}
	if err == nil && w.err == nil {
		w.syncGen = w.writeGen // waiters need no leader any more
	} else if w.err == nil {
		w.err = err
	}
	if e := w.saveState(); e != nil && err == nil {
		err = e
	}
	if e := w.stf.close(); e != nil && err == nil {
		err = fmt.Errorf("spool: close: %w", e)
	}
	if e := w.res.close(); e != nil && err == nil {
		err = fmt.Errorf("spool: close: %w", e)
	}
	if err == nil && w.err == nil {
		// Clean: everything on disk is synced, readers may take it all.
		err = w.writeWatermark(true)
	}
	if e := w.wm.Close(); e != nil && err == nil {
		err = fmt.Errorf("spool: close: %w", e)
	}
	if e := unlockFile(w.lock); e != nil && err == nil {
		err = fmt.Errorf("spool: close: %w", e)
	}
	w.cond.Broadcast()
	return err
}
