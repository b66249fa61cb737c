package spool

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"medagent/telemetry"
)

// errNoRoom is store's internal "nothing more can be freed".
var errNoRoom = errors.New("no room")

// Append stores one record and returns its per-stream sequence number
// once the record is durable (fsynced). Sequence numbers are kept per
// (class, stream): 1, 2, 3 … across restarts and evictions. ctx is only
// checked before writing: once written, Append waits for the fsync.
// After a failed fsync the Writer refuses further appends (fail closed).
//
// When the file system is full, telemetry is evicted to make room, as at
// MaxBytes; alarms and events then draw on the reserve, then evict older
// events and alarms. A record that still cannot be stored gets ErrNoSpace:
// its seq is consumed (the receiver sees the gap) and the refusal is
// reported in ReportStream.
func (w *Writer) Append(ctx context.Context, class telemetry.Class, stream string, t time.Time, payload []byte) (uint64, error) {
	if err := validClass(class); err != nil {
		return 0, err
	}
	if len(stream) == 0 || len(stream) > MaxStreamLen {
		return 0, fmt.Errorf("spool: append: stream name length %d out of range 1..%d", len(stream), MaxStreamLen)
	}
	if len(payload) > MaxPayload {
		return 0, fmt.Errorf("spool: append: payload of %d bytes exceeds the %d-byte maximum", len(payload), MaxPayload)
	}
	if t.Before(minTime) || t.After(maxTime) {
		return 0, fmt.Errorf("spool: append: time %v outside %d..%d", t, minTime.Year(), maxTime.Year())
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, ErrClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	cl := w.logs[classIndex(class)]
	prev, known := cl.seqs[stream]
	if !known && len(cl.seqs) >= MaxStreams {
		return 0, fmt.Errorf("spool: append: more than %d streams in class %s", MaxStreams, class)
	}
	if w.res.short() {
		w.regrowReserve()
	}
	seq := prev + 1
	err := w.store(cl, stream, seq, t, payload, false)
	if errors.Is(err, errNoRoom) {
		w.refuse(cl, stream, seq, t)
		err = fmt.Errorf("%w: %s %s seq %d in %s", ErrNoSpace, class, stream, seq, cl.dir)
	} else if err != nil {
		return 0, err
	} else {
		w.supersede(class, stream, seq)
	}
	w.report()
	if derr := w.waitDurable(w.writeGen); derr != nil {
		return 0, derr
	}
	w.settle()
	if err != nil {
		return 0, err
	}
	return seq, nil
}

// store writes one frame, making room as the bounds require. internal
// marks the writer's own reports, which may evict telemetry and use the
// reserve but never evict events or alarms. It returns errNoRoom (wrapped)
// when nothing more can be freed. w.mu held.
func (w *Writer) store(cl *classLog, stream string, seq uint64, t time.Time, payload []byte, internal bool) error {
	need := int64(frameLen(len(stream), len(payload), w.aead != nil))
	for cl.size+need > w.opts.SegmentBytes && cl.size > cl.dataStart {
		// Not from the reserve: telemetry would eat it one segment at a
		// time. freeSpace decides who may use it.
		err := w.roll(cl)
		if err == nil {
			break
		}
		if !isNoSpace(err) {
			return err
		}
		if freed, ferr := w.freeSpace(cl.class, need, internal); ferr != nil || !freed {
			return errors.Join(ferr, fmt.Errorf("%w: %v", errNoRoom, err))
		}
	}
	if w.total+need > w.opts.MaxBytes {
		if err := w.makeRoom(need, internal); err != nil {
			return err
		}
	}
	for {
		off := cl.size
		var ad [adLen]byte
		buf, err := appendFrame(w.buf[:0], entry{Stream: stream, Seq: seq, Time: t, Payload: payload}, w.aead, frameAD(&ad, cl.class, cl.segs[len(cl.segs)-1].num, off))
		if err != nil {
			return err
		}
		w.buf = buf
		_, err = w.writeAt(cl.f, buf, off)
		if err == nil {
			break
		}
		// Leave no partial frame behind.
		if terr := cl.f.Truncate(off); terr != nil {
			w.err = fmt.Errorf("spool: append to %s: %w; truncating the partial frame also failed: %v", cl.dir, err, terr)
			return w.err
		}
		if !isNoSpace(err) {
			return fmt.Errorf("spool: append to %s: %w", cl.dir, err)
		}
		freed, ferr := w.freeSpace(cl.class, need, internal)
		if ferr != nil {
			return ferr
		}
		if !freed {
			return fmt.Errorf("%w: spool: append to %s: disk full: %v", errNoRoom, cl.dir, err)
		}
	}
	cl.seqs[stream] = seq
	cl.size += need
	cl.segs[len(cl.segs)-1].size = cl.size
	w.total += need
	w.appends++
	w.dirty[classIndex(cl.class)] = true
	w.writeGen++
	return nil
}

// refuse consumes seq of a record that could not be stored and records
// the loss for the report; the state file keeps the seq across a
// restart. w.mu held.
func (w *Writer) refuse(cl *classLog, stream string, seq uint64, t time.Time) {
	cl.seqs[stream] = seq
	w.state.Refused[classIndex(cl.class)]++
	w.state.addLoss(loss{Kind: lossRefused, Reason: reasonDiskFull, Class: cl.class, Stream: stream, First: seq, Last: seq, Count: 1, From: t, To: t})
	if err := w.saveState(); err != nil {
		w.log.Error("spool: cannot record a refused record's seq", "err", err)
	}
	w.refusedSinceLog++
	if time.Since(w.lastRefusalLog) >= 10*time.Second {
		w.log.Error("spool: file system full, records refused (seqs skipped, reported)", "dir", w.opts.Dir, "class", cl.class.String(), "stream", stream, "refused", w.refusedSinceLog)
		w.lastRefusalLog, w.refusedSinceLog = time.Now(), 0
	}
}

// supersede forgets reported refusals of a stream that has now stored a
// later seq (the segments keep it from here). w.mu held.
func (w *Writer) supersede(class telemetry.Class, stream string, seq uint64) {
	ls := w.state.Losses
	for i := 0; i < len(ls); i++ {
		if l := ls[i]; l.Kind == lossRefused && l.Reported && l.Class == class && l.Stream == stream && l.Last < seq {
			ls = append(ls[:i], ls[i+1:]...)
			i--
		}
	}
	w.state.Losses = ls // persisted with the next change
}

// sending marks a loss whose report is being written.
const sending = math.MaxUint64

// reportEvery bounds how often the writer stores loss reports: the first
// loss is reported at once, later ones are gathered for this long, so a
// full disk refusing records every second does not fill the reserve with
// one report per record.
const reportEvery = 5 * time.Second

// report appends an event to ReportStream for every loss not yet
// reported, at most once per reportEvery. A report that does not fit
// stays pending and is retried at most once per reserveRetry. w.mu held.
func (w *Writer) report() {
	if time.Since(w.lastReport) < w.reportEvery || time.Since(w.lastReportFail) < reserveRetry {
		return
	}
	var ids []uint64
	for i := range w.state.Losses {
		if l := &w.state.Losses[i]; !l.Reported && l.sent == 0 {
			l.sent = sending
			ids = append(ids, l.id)
		}
	}
	if len(ids) == 0 {
		return
	}
	w.lastReport = time.Now()
	ev := w.logs[classIndex(telemetry.ClassEvent)]
	for k, id := range ids {
		l := w.state.find(id)
		if l == nil {
			continue // merged away by an eviction this loop caused
		}
		p := l.pack()
		b, err := p.Marshal()
		if err == nil {
			err = w.store(ev, ReportStream, ev.seqs[ReportStream]+1, p.Time, b, true)
		}
		if err != nil {
			w.unmark(ids[k:])
			w.lastReportFail = time.Now()
			w.log.Warn("spool: loss report not stored yet, will retry", "err", err)
			return
		}
		if l := w.state.find(id); l != nil {
			l.sent = w.writeGen
		}
	}
}

// flushReports stores the pending loss reports now and waits until they
// are durable (Close, tests). Storing a report can evict telemetry,
// which is reported in turn: a few rounds settle it. w.mu held.
func (w *Writer) flushReports() error {
	for range 4 {
		if w.state.unreported() == 0 {
			return nil
		}
		gen := w.writeGen
		w.lastReport, w.lastReportFail = time.Time{}, time.Time{}
		w.report()
		if err := w.waitDurable(w.writeGen); err != nil {
			return err
		}
		w.settle()
		if w.writeGen == gen {
			return nil // nothing could be stored
		}
	}
	return nil
}

func (w *Writer) unmark(ids []uint64) {
	for _, id := range ids {
		if l := w.state.find(id); l != nil && l.sent == sending {
			l.sent = 0
		}
	}
}

// settle marks the losses whose report is durable: evictions are done
// with, refusals stay until the stream stores a later seq. w.mu held.
func (w *Writer) settle() {
	changed := false
	ls := w.state.Losses
	for i := 0; i < len(ls); i++ {
		l := &ls[i]
		if l.sent == 0 || l.sent == sending || l.sent > w.syncGen {
			continue
		}
		changed = true
		if l.Kind == lossEvicted || l.Stream == "" {
			ls = append(ls[:i], ls[i+1:]...)
			i--
			continue
		}
		l.Reported, l.sent = true, 0
	}
	w.state.Losses = ls
	if changed {
		if err := w.saveState(); err != nil {
			w.log.Error("spool: cannot record sent loss reports (they may be sent twice)", "err", err)
		}
	}
}
