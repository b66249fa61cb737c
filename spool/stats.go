package spool

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"medagent/telemetry"
)

// ClassStats describes one class log.
type ClassStats struct {
	// Pending counts the records at or after the ack cursor (records
	// acknowledged out of order above the cursor still count).
	Pending      uint64
	PendingBytes int64
	// Oldest is the time of the oldest pending record (zero if none).
	Oldest time.Time
	// OldestApprox is set when Oldest could not be decrypted (offline
	// stats of an encrypted spool): it is then the creation time of the
	// segment holding that record, a lower bound.
	OldestApprox bool
	// Evicted counts records dropped unacknowledged because the spool
	// was full (since the spool was created).
	Evicted uint64
	// Refused counts records the file system refused (ErrNoSpace): their
	// seqs were skipped.
	Refused  uint64
	Segments int
	Bytes    int64
}

// Stats describes the spool. Counters are persisted in the state files
// unless noted.
type Stats struct {
	Classes   map[telemetry.Class]ClassStats
	DiskBytes int64
	// CorruptFrames counts damaged frames the reader skipped.
	CorruptFrames uint64
	// DamagedSpans counts damaged byte ranges this scan found in the
	// pending part of the logs (not yet skipped by a reader).
	DamagedSpans uint64
	// TornTails counts torn tails the writer truncated at open.
	TornTails uint64
	// ReserveBytes is the file-system space held for alarms and events
	// (Options.ReserveBytes when whole).
	ReserveBytes int64
	// UnreportedLosses counts loss runs (evictions, refusals) whose
	// report event is not stored yet.
	UnreportedLosses int
	// Appends and Fsyncs count this Writer's work since it opened (zero
	// for a Reader and for ReadStats).
	Appends, Fsyncs uint64
	Encrypted       bool
}

// Stats reports the spool: counters of this writer plus a scan of Dir.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	appends, fsyncs, state, reserve := w.appends, w.fsyncs, w.state, w.res.size
	unreported := state.unreported()
	w.mu.Unlock()
	cur, err := loadCursor(w.opts.ReaderDir)
	if err != nil {
		w.log.Warn("spool: stats", "err", err)
	}
	s, err := computeStats(w.opts.Dir, w.aead, cur)
	if err != nil {
		w.log.Warn("spool: stats", "err", err)
	}
	s.Appends, s.Fsyncs = appends, fsyncs
	s.TornTails, s.ReserveBytes, s.UnreportedLosses = state.Torn, reserve, unreported
	for _, c := range classes {
		cs := s.Classes[c]
		cs.Evicted, cs.Refused = state.Evicted[classIndex(c)], state.Refused[classIndex(c)]
		s.Classes[c] = cs
	}
	return s
}

// ReadStats scans a spool directory offline (for `medagent spool stats`).
// It needs no key and takes no lock: with a writer running, the numbers
// are a snapshot.
func ReadStats(dir string) (Stats, error) {
	if _, err := os.Stat(dir); err != nil {
		return Stats{}, fmt.Errorf("spool: stats: %w", err)
	}
	cur, err := loadCursor(dir)
	if err != nil {
		return Stats{}, err
	}
	return computeStats(dir, nil, cur)
}

// computeStats scans every segment (frame headers and checksums; one
// decryption per class for the oldest time). It costs a read of the
// pending bytes, so callers poll it seconds apart, not per record.
func computeStats(dir string, aead cipher.AEAD, cur cursorState) (Stats, error) {
	s := Stats{Classes: map[telemetry.Class]ClassStats{}, CorruptFrames: cur.Corrupt}
	ws, err := loadWriterState(dir)
	var firstErr error
	if err != nil {
		firstErr = err
	}
	s.TornTails, s.UnreportedLosses = ws.Torn, ws.unreported()
	if fi, err := os.Stat(filepath.Join(dir, reserveFile)); err == nil {
		s.ReserveBytes = min(fi.Size(), allocated(fi))
	}
	sc := newScanner(nil)
	for _, c := range classes {
		i := classIndex(c)
		cs := ClassStats{Evicted: ws.Evicted[i], Refused: ws.Refused[i]}
		cdir := filepath.Join(dir, classDirName(c))
		nums, err := listSegments(cdir)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		for _, num := range nums {
			if err := statSegment(&s, &cs, sc, c, filepath.Join(cdir, segmentName(num)), num, cur.Cursor[i], aead); err != nil && firstErr == nil {
				firstErr = err
			}
		}
		s.DiskBytes += cs.Bytes
		s.Classes[c] = cs
	}
	return s, firstErr
}

func statSegment(s *Stats, cs *ClassStats, sc *scanner, c telemetry.Class, p string, num uint64, cursor pos, aead cipher.AEAD) error {
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil // deleted while we looked
	}
	if err != nil {
		return fmt.Errorf("spool: stats: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("spool: stats: %w", err)
	}
	cs.Segments++
	cs.Bytes += fi.Size()
	h, err := readSegHeader(f, nil, false)
	if err != nil {
		s.DamagedSpans++
		return nil
	}
	s.Encrypted = s.Encrypted || h.Encrypted
	if fi.Size() <= cursor.Off && num == cursor.Seg || num < cursor.Seg {
		return nil
	}
	sc.reset(f)
	var scratch []byte
	bad, err := walkFramesCount(sc, h.DataStart, fi.Size(), func(off int64, body []byte) {
		if (pos{num, off}).less(cursor) {
			return
		}
		cs.Pending++
		cs.PendingBytes += int64(frameHeaderLen + len(body))
		if !cs.Oldest.IsZero() {
			return
		}
		if h.Encrypted && aead == nil {
			cs.Oldest, cs.OldestApprox = h.Created, true
			return
		}
		var ad [adLen]byte
		var e entry
		var derr error
		if e, scratch, derr = decodeBody(body, aead, frameAD(&ad, c, num, off), scratch); derr == nil {
			cs.Oldest = e.Time
		}
	})
	s.DamagedSpans += uint64(bad)
	if err != nil {
		return fmt.Errorf("spool: stats: read %s: %w", p, err)
	}
	return nil
}
