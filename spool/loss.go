package spool

import (
	"encoding/binary"
	"fmt"
	"time"

	"medagent/telemetry"
)

// ReportStream is the event stream in which the Writer reports its own
// losses: records evicted unacknowledged and records it could not store.
// The uplink publishes these events like any other, so the receiver learns
// what is missing (per class and stream: how many, which seqs, what time
// span) as soon as the uplink can send.
const ReportStream = "spool"

// Loss report conditions and reasons, as in the "event/condition" and
// "event/reason" records of a ReportStream event.
const (
	CondEvicted    = "spool_evicted"   // records deleted unacknowledged to make room
	CondRefused    = "spool_refused"   // records that could not be stored at all; their seqs are skipped
	ReasonMaxBytes = "max_bytes"       // the spool reached Options.MaxBytes
	ReasonDiskFull = "disk_full"       // the file system refused a write
	lossMergedNote = "several streams" // event/stream of a merged report
)

type lossKind uint8

const (
	lossEvicted lossKind = 1
	lossRefused lossKind = 2
)

type lossReason uint8

const (
	reasonMaxBytes lossReason = 1
	reasonDiskFull lossReason = 2
)

// maxLosses bounds the loss records the writer keeps between reports. With
// more streams losing at once, the losses of one class and kind are merged
// (Stream "": counts and time span kept, seq ranges not).
const maxLosses = 32

// loss is one run of lost records of a stream, not yet reported (or
// reported, for refusals, until the stream has stored a later seq: it
// keeps the skipped seq across a restart).
type loss struct {
	Kind        lossKind
	Reason      lossReason
	Class       telemetry.Class
	Reported    bool
	Stream      string // "" when several streams were merged
	First, Last uint64 // seq range; 0 when merged
	Count       uint64
	From, To    time.Time

	id   uint64 // in memory: names the entry while its report is written
	sent uint64 // in memory: 0, sending, or the write generation of its report
}

// open reports whether more losses may merge into l: not reported, and
// no report of it being written.
func (l loss) open() bool { return !l.Reported && l.sent == 0 }

func (l loss) sameRun(m loss) bool {
	return l.sameKind(m) && l.Stream == m.Stream
}

// merge folds m into l.
func (l *loss) merge(m loss) {
	if l.Stream != m.Stream {
		l.Stream, l.First, l.Last = "", 0, 0
	} else {
		l.First, l.Last = min(l.First, m.First), max(l.Last, m.Last)
	}
	l.Count += m.Count
	if l.From.IsZero() || (!m.From.IsZero() && m.From.Before(l.From)) {
		l.From = m.From
	}
	if m.To.After(l.To) {
		l.To = m.To
	}
}

// addLoss records m in s, merging it into an open run of the same
// stream. When the table is full, a reported refusal makes room, else m
// merges into an open run of its class, kind and reason, else two open
// runs of another class, kind and reason merge (there are 12 combinations,
// so with maxLosses open entries two always share one). Only when nearly
// every entry has a report being written does the table grow past
// maxLosses (by at most that many, see decodeWriterState).
func (s *writerState) addLoss(m loss) {
	s.nextID++
	m.id, m.sent = s.nextID, 0
	for i := range s.Losses {
		if s.Losses[i].sameRun(m) {
			s.Losses[i].merge(m)
			return
		}
	}
	if len(s.Losses) >= maxLosses {
		switch {
		case s.dropReported():
		case s.mergeInto(m):
			return
		default:
			s.mergePair()
		}
	}
	s.Losses = append(s.Losses, m)
}

func (s *writerState) dropReported() bool {
	for i, l := range s.Losses {
		if l.Reported {
			s.Losses = append(s.Losses[:i], s.Losses[i+1:]...)
			return true
		}
	}
	return false
}

func (s *writerState) mergeInto(m loss) bool {
	for i := range s.Losses {
		if l := &s.Losses[i]; l.sameKind(m) {
			l.merge(m)
			return true
		}
	}
	return false
}

func (s *writerState) mergePair() {
	for i := range s.Losses {
		for j := i + 1; j < len(s.Losses); j++ {
			if s.Losses[i].sameKind(s.Losses[j]) {
				s.Losses[i].merge(s.Losses[j])
				s.Losses = append(s.Losses[:j], s.Losses[j+1:]...)
				return
			}
		}
	}
}

func (l loss) sameKind(m loss) bool {
	return l.Kind == m.Kind && l.Reason == m.Reason && l.Class == m.Class && l.open() && m.open()
}

// unreported counts the losses whose report is not stored yet.
func (s *writerState) unreported() int {
	n := 0
	for _, l := range s.Losses {
		if !l.Reported {
			n++
		}
	}
	return n
}

// find returns the loss with this id, or nil.
func (s *writerState) find(id uint64) *loss {
	for i := range s.Losses {
		if s.Losses[i].id == id {
			return &s.Losses[i]
		}
	}
	return nil
}

// pack renders l as the event the writer appends to ReportStream.
func (l loss) pack() telemetry.Pack {
	cond, reason := CondEvicted, ReasonMaxBytes
	if l.Kind == lossRefused {
		cond = CondRefused
	}
	if l.Reason == reasonDiskFull {
		reason = ReasonDiskFull
	}
	recs := []telemetry.Record{
		{Name: "event/condition", String: cond},
		{Name: "event/reason", String: reason},
		{Name: "event/class", String: l.Class.String()},
	}
	if l.Stream != "" {
		recs = append(recs,
			telemetry.Record{Name: "event/stream", String: l.Stream},
			telemetry.Record{Name: "event/seq_first", Value: telemetry.V(float64(l.First))},
			telemetry.Record{Name: "event/seq_last", Value: telemetry.V(float64(l.Last))},
		)
	} else {
		recs = append(recs, telemetry.Record{Name: "event/stream", String: lossMergedNote})
	}
	from, span := l.From, l.To.Sub(l.From)
	if from.IsZero() {
		from, span = time.Now(), 0 // no record could be decoded
	}
	recs = append(recs,
		telemetry.Record{Name: "event/records", Value: telemetry.V(float64(l.Count))},
		telemetry.Record{Name: "event/span", Unit: "s", Value: telemetry.V(max(span, 0).Seconds())},
	)
	return telemetry.Pack{Stream: ReportStream, Class: telemetry.ClassEvent, Time: from, Records: recs}
}

// Loss record layout: kind u8 | reason u8 | class u8 | flags u8 (1:
// reported) | streamLen u8 | stream | first u64 | last u64 | count u64 |
// from i64 | to i64 (unix nanos, 0 for none).
func (l loss) appendTo(b []byte) []byte {
	var flags byte
	if l.Reported {
		flags = 1
	}
	b = append(b, byte(l.Kind), byte(l.Reason), byte(l.Class), flags, byte(len(l.Stream)))
	b = append(b, l.Stream...)
	b = binary.LittleEndian.AppendUint64(b, l.First)
	b = binary.LittleEndian.AppendUint64(b, l.Last)
	b = binary.LittleEndian.AppendUint64(b, l.Count)
	b = binary.LittleEndian.AppendUint64(b, uint64(nanos(l.From)))
	return binary.LittleEndian.AppendUint64(b, uint64(nanos(l.To)))
}

func decodeLoss(b []byte) (loss, []byte, error) {
	if len(b) < 5 || len(b) < 5+int(b[4])+40 {
		return loss{}, nil, fmt.Errorf("truncated loss record")
	}
	l := loss{Kind: lossKind(b[0]), Reason: lossReason(b[1]), Class: telemetry.Class(b[2]), Reported: b[3]&1 != 0}
	if l.Kind < lossEvicted || l.Kind > lossRefused || l.Reason < reasonMaxBytes || l.Reason > reasonDiskFull || validClass(l.Class) != nil || b[3]&^1 != 0 {
		return loss{}, nil, fmt.Errorf("bad loss record (kind %d reason %d class %d flags %d)", b[0], b[1], b[2], b[3])
	}
	n := int(b[4])
	l.Stream = string(b[5 : 5+n])
	p := b[5+n:]
	l.First = binary.LittleEndian.Uint64(p)
	l.Last = binary.LittleEndian.Uint64(p[8:])
	l.Count = binary.LittleEndian.Uint64(p[16:])
	l.From = fromNanos(int64(binary.LittleEndian.Uint64(p[24:])))
	l.To = fromNanos(int64(binary.LittleEndian.Uint64(p[32:])))
	return l, p[40:], nil
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
