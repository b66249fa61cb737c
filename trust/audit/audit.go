package audit

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"medagent/internal/authfile"
)

// Entry is one audit record.
type Entry struct {
	Seq    uint64            `json:"seq"`
	Time   time.Time         `json:"time"`
	Kind   string            `json:"kind"`
	Fields map[string]string `json:"fields,omitempty"`
	Prev   string            `json:"prev"` // hex SHA-256 of the previous entry's line; "" for the first ever
	MAC    string            `json:"mac"`  // hex HMAC-SHA256 of the entry with mac ""
}

// Options configure a Log.
type Options struct {
	Dir string // holds audit.log, audit.log.N and audit.head; only its owner may write it
	Key []byte // HMAC key (at least 32 bytes), see authfile.DeriveKey
	// MaxBytes is the size at which audit.log rotates (default 1 MiB);
	// Keep how many rotated files stay (default 8).
	MaxBytes int64
	Keep     int
	// Publish, if set, receives every entry after it is durable.
	Publish func(Entry)
	// The flood bound: each kind of entry may come in bursts of Burst
	// (default 20, at least 2) and then one per Every (default 10 s).
	// Entries beyond it are dropped and counted: the first drop writes an
	// audit.dropping entry, the count goes into an audit.dropped entry
	// (kind, count, first, last) as soon as the kind is below its bound
	// again, or at Close. So a hostile client or a stream of refused
	// commands cannot fill the spool the entries are published into (and
	// evict its oldest telemetry) or rotate the evidence out of the trail.
	Burst int
	Every time.Duration
	// DropSync bounds how long a drop count is only in memory (default
	// 1 s): the counts are kept in audit.drops at most once per DropSync,
	// so a power cut loses at most that interval's count, and a flood
	// costs one small rewrite per interval.
	DropSync time.Duration
	Logger   *slog.Logger
	Now      func() time.Time
}

// Limits.
const (
	maxLine    = 64 << 10 // one entry
	maxFields  = 32
	maxField   = 2048 // bytes of one field value (longer ones are cut)
	headFormat = "medagent-audit-head"
	logName    = "audit.log"
	headName   = "audit.head"
)

type head struct {
	Seq   uint64 `json:"seq"`   // last entry
	Hash  string `json:"hash"`  // its line's SHA-256
	First uint64 `json:"first"` // first seq still kept
}

// Log is an open audit trail. Its methods may be called from any goroutine.
type Log struct {
	o   Options
	log *slog.Logger

	mu      sync.Mutex
	f       *os.File
	size    int64
	head    head
	buckets map[string]*bucket // the flood bound, per kind
	// The drop counts kept on disk (drops.go).
	syncAt      time.Time   // of the last sync
	timer       *time.Timer // the next sync, when one is scheduled
	dropsOnDisk bool        // audit.drops may exist
	dropWrites  int         // times audit.drops was written (for tests)
}

// Open opens (or creates) the audit trail in o.Dir, recovering a line
// torn by a power cut. Problems Verify finds are logged and recorded as an
// "audit.check_failed" entry; the trail goes on from its actual end.
func Open(o Options) (*Log, error) {
	if o.Dir == "" {
		return nil, errors.New("audit: no directory")
	}
	if len(o.Key) < authfile.MinKeySize {
		return nil, errors.New("audit: no key")
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 1 << 20
	}
	if o.Keep <= 0 {
		o.Keep = 8
	}
	if o.Burst <= 0 {
		o.Burst = defaultBurst
	}
	o.Burst = max(o.Burst, 2)
	if o.Every <= 0 {
		o.Every = defaultEvery
	}
	if o.DropSync <= 0 {
		o.DropSync = defaultDropSync
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := authfile.CheckDir(o.Dir); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	l := &Log{o: o, log: o.Logger, buckets: map[string]*bucket{}}
	torn, err := l.recover()
	if err != nil {
		return nil, err
	}
	rep := Verify(o.Dir, o.Key)
	if torn > 0 {
		l.Record("audit.recovered", map[string]string{"torn_bytes": strconv.Itoa(torn)})
	}
	if !rep.OK() {
		l.log.Error("audit trail check failed", "problems", len(rep.Problems), "first", rep.Problems[0].String())
		f := map[string]string{"problems": strconv.Itoa(len(rep.Problems))}
		for i, p := range rep.Problems[:min(len(rep.Problems), 8)] {
			f["problem_"+strconv.Itoa(i)] = p.String()
		}
		l.Record("audit.check_failed", f)
	}
	l.mu.Lock()
	l.recoverDrops(rep)
	l.mu.Unlock()
	return l, nil
}

// recover opens audit.log for appending, cuts a torn last line and finds
// the chain's end (from the file, or the newest rotated file when it is
// empty), bringing the head up to it. It returns the bytes cut.
func (l *Log) recover() (int, error) {
	p := filepath.Join(l.o.Dir, logName)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return 0, fmt.Errorf("audit: %w", err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return 0, fmt.Errorf("audit: read %s: %w", p, err)
	}
	keep := len(b)
	if i := bytes.LastIndexByte(b, '\n'); i+1 != len(b) {
		keep = i + 1 // a last line without its newline is torn
	}
	if keep > 0 && !l.entryLine(lastLine(b[:keep])) {
		// The last complete line is not an entry this key wrote: a
		// torn write that happened to end in a newline. Cut it too.
		keep = bytes.LastIndexByte(b[:keep-1], '\n') + 1
	}
	torn := len(b) - keep
	if torn > 0 {
		if err := f.Truncate(int64(keep)); err != nil {
			f.Close()
			return 0, fmt.Errorf("audit: cut torn entry: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return 0, fmt.Errorf("audit: fsync: %w", err)
		}
	}
	l.f, l.size = f, int64(keep)
	h, err := readHead(l.o.Dir, l.o.Key)
	if err != nil {
		// Missing or not authentic (Verify reports it): rebuild it from
		// the files.
		h = head{}
		if files := logFiles(l.o.Dir); len(files) > 0 {
			h.First = firstSeqOf(filepath.Join(l.o.Dir, files[0]))
		}
	}
	last := lastLine(b[:keep])
	if last == nil {
		last = lastLineOfFile(filepath.Join(l.o.Dir, logName+".1"))
	}
	if last != nil {
		var e Entry
		if json.Unmarshal(last, &e) == nil {
			h.Seq, h.Hash = e.Seq, lineHash(last)
		}
	}
	l.head = h
	return torn, nil
}

func (l *Log) entryLine(line []byte) bool {
	var e Entry
	if decodeEntry(line, &e) != nil {
		return false
	}
	return checkMAC(l.o.Key, e) == nil
}

func lastLine(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	if len(b) == 0 {
		return nil
	}
	return b[bytes.LastIndexByte(b, '\n')+1:]
}

func lastLineOfFile(p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	return lastLine(b)
}

func lineHash(line []byte) string {
	s := sha256.Sum256(line)
	return hex.EncodeToString(s[:])
}

func entryMAC(key []byte, e Entry) (string, error) {
	e.MAC = ""
	b, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("medagent-audit-v1\x00"))
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil)), nil
}

func checkMAC(key []byte, e Entry) error {
	want, err := entryMAC(key, e)
	if err != nil {
		return err
	}
	if !hmac.Equal([]byte(want), []byte(e.MAC)) {
		return errors.New("mac does not match")
	}
	return nil
}

func decodeEntry(line []byte, e *Entry) error {
	if len(line) > maxLine {
		return fmt.Errorf("line of %d bytes", len(line))
	}
	d := json.NewDecoder(bytes.NewReader(line))
	d.DisallowUnknownFields()
	if err := d.Decode(e); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("data after the entry")
	}
	return nil
}

func readHead(dir string, key []byte) (head, error) {
	b, err := authfile.Read(filepath.Join(dir, headName), 4096)
	if err != nil {
		return head{}, err
	}
	var h head
	if err := authfile.Unmarshal(key, headFormat, 1, b, &h); err != nil {
		return head{}, err
	}
	return h, nil
}

func (l *Log) writeHead() error {
	b, err := authfile.Marshal(l.o.Key, headFormat, 1, l.head)
	if err != nil {
		return err
	}
	return authfile.Write(filepath.Join(l.o.Dir, headName), b)
}

// Record appends an entry of kind with fields (values from outside are
// fine: they are escaped, and cut at 2 KiB). It is durable (fsynced) when
// Record returns; an error is logged and returned. An entry beyond the
// flood bound (Options.Burst) is counted and not written: ErrDropped.
func (l *Log) Record(kind string, fields map[string]string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.admit(cut(kind, 128)) {
		return ErrDropped
	}
	return l.write(kind, fields)
}

// write appends and publishes one entry (l.mu held).
func (l *Log) write(kind string, fields map[string]string) error {
	e, err := l.append(kind, fields)
	if err != nil {
		l.log.Error("audit: append failed", "kind", kind, "err", err)
		return err
	}
	if l.o.Publish != nil {
		l.o.Publish(e)
	}
	return nil
}

// append writes one entry (l.mu held, or during Open).
func (l *Log) append(kind string, fields map[string]string) (Entry, error) {
	if l.f == nil {
		return Entry{}, errors.New("audit: closed")
	}
	e := Entry{Seq: l.head.Seq + 1, Time: l.o.Now().UTC(), Kind: cut(kind, 128), Prev: l.head.Hash}
	if len(fields) > 0 {
		e.Fields = make(map[string]string, min(len(fields), maxFields))
		for _, k := range sortedKeys(fields) {
			if len(e.Fields) == maxFields {
				e.Fields["truncated"] = "more fields"
				break
			}
			e.Fields[cut(k, 64)] = cut(fields[k], maxField)
		}
	}
	if l.head.First == 0 {
		l.head.First = e.Seq
	}
	mac, err := entryMAC(l.o.Key, e)
	if err != nil {
		return Entry{}, fmt.Errorf("audit: %w", err)
	}
	e.MAC = mac
	line, err := json.Marshal(e)
	if err != nil {
		return Entry{}, fmt.Errorf("audit: %w", err)
	}
	if l.size > 0 && l.size+int64(len(line))+1 > l.o.MaxBytes {
		if err := l.rotate(); err != nil {
			return Entry{}, err
		}
	}
	if _, err := l.f.Write(append(line, '\n')); err != nil {
		return Entry{}, fmt.Errorf("audit: write: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return Entry{}, fmt.Errorf("audit: fsync: %w", err)
	}
	l.size += int64(len(line)) + 1
	l.head.Seq, l.head.Hash = e.Seq, lineHash(line)
	if err := l.writeHead(); err != nil {
		return e, fmt.Errorf("audit: head: %w", err)
	}
	return e, nil
}

// rotate moves audit.log to audit.log.1 (shifting older files, dropping
// the oldest beyond Keep) and starts a new audit.log.
func (l *Log) rotate() error {
	dir := l.o.Dir
	name := func(i int) string {
		if i == 0 {
			return filepath.Join(dir, logName)
		}
		return filepath.Join(dir, logName+"."+strconv.Itoa(i))
	}
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("audit: rotate: %w", err)
	}
	l.f = nil
	os.Remove(name(l.o.Keep))
	for i := l.o.Keep - 1; i >= 0; i-- {
		if err := os.Rename(name(i), name(i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("audit: rotate: %w", err)
		}
	}
	// The first seq still kept is the first of the oldest kept file.
	for i := l.o.Keep; i >= 1; i-- {
		if first := firstSeqOf(name(i)); first > 0 {
			l.head.First = first
			break
		}
	}
	f, err := os.OpenFile(name(0), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit: rotate: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	l.f, l.size = f, 0
	return nil
}

func firstSeqOf(p string) uint64 {
	f, err := os.Open(p)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), maxLine+1)
	if !sc.Scan() {
		return 0
	}
	var e Entry
	if json.Unmarshal(sc.Bytes(), &e) != nil {
		return 0
	}
	return e.Seq
}

// Verify checks the whole trail (see the package function Verify).
func (l *Log) Verify() Report {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Verify(l.o.Dir, l.o.Key)
}

// Close closes the log.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	l.flushAll()
	err := l.f.Close()
	l.f = nil
	return err
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range maps.Keys(m) {
		ks = append(ks, k)
	}
	sortStrings(ks)
	return ks
}
