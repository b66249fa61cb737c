package handoff

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"
)

// Errors of the producer API.
var (
	// ErrFull: MaxItems items are waiting for acquire; try again later.
	ErrFull = errors.New("handoff: full")
	// ErrNotFound: no item and no state has that id.
	ErrNotFound = errors.New("handoff: no such item")
)

// Item is what a producer hands to acquire.
type Item struct {
	Kind Kind
	// Envelope is a KindCommand item's signed envelope, as received.
	Envelope []byte
	// File is a KindArtifact item's file. Submit moves it into the item
	// (a rename when it is on the hand-off's file system, such as under
	// WorkDir, else a copy), so the caller no longer owns it.
	File string
	// Source, Digest, Command, Deployment and Error: see Meta.
	Source     string
	Digest     string
	Command    string
	Deployment string
	Error      string
}

// Options configure a Producer or a Consumer.
type Options struct {
	// Dir is the hand-off directory: written by the producer (the uplink
	// role), read by the consumer (the acquire role). Required.
	Dir string
	// StateDir holds acquire's state files: written by the consumer, read
	// by producers. Required.
	StateDir string
	// MaxItems bounds the items waiting for acquire; default 16.
	MaxItems int
	// MaxArtifactBytes bounds an artifact; default DefaultMaxArtifactBytes.
	MaxArtifactBytes int64
	// MaxStates bounds the state files acquire keeps; default 256.
	MaxStates int
	// Poll is how often the consumer looks for new items; default 500 ms.
	Poll time.Duration
	// Retention: a final state whose item is gone is kept this long for
	// producers to read; default 24 h.
	Retention time.Duration
	// Handle (consumer only) is called, in item order, for every item
	// acquire has not seen before and whose shape is sound; it must
	// return quickly (start long work elsewhere) and record its progress
	// with Consumer.Set.
	Handle func(ctx context.Context, in *Incoming)
	Logger *slog.Logger
	Now    func() time.Time // default time.Now
}

func (o *Options) ensureDefaults() error {
	if o.Dir == "" || o.StateDir == "" {
		return errors.New("handoff: Dir and StateDir are required")
	}
	if o.MaxItems <= 0 {
		o.MaxItems = 16
	}
	if o.MaxArtifactBytes <= 0 {
		o.MaxArtifactBytes = DefaultMaxArtifactBytes
	}
	if o.MaxStates <= 0 {
		o.MaxStates = 256
	}
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Retention <= 0 {
		o.Retention = 24 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// Producer writes items into the hand-off: the uplink role's side.
type Producer struct {
	o Options

	mu   sync.Mutex
	last int64 // the time part of the last id, so that ids keep their order
}

// Sub-directories of the hand-off.
const (
	inDir   = "in"   // complete items
	tmpDir  = "tmp"  // items being written
	workDir = "work" // producers' large files in progress
)

// OpenProducer makes the hand-off's directories and removes items a crash
// left half-written.
func OpenProducer(o Options) (*Producer, error) {
	if err := o.ensureDefaults(); err != nil {
		return nil, err
	}
	for _, d := range []string{inDir, tmpDir, workDir} {
		if err := os.MkdirAll(filepath.Join(o.Dir, d), dirMode); err != nil {
			return nil, fmt.Errorf("handoff: %w", err)
		}
	}
	if err := os.RemoveAll(filepath.Join(o.Dir, tmpDir)); err != nil {
		return nil, fmt.Errorf("handoff: clear half-written items: %w", err)
	}
	if err := os.Mkdir(filepath.Join(o.Dir, tmpDir), dirMode); err != nil {
		return nil, fmt.Errorf("handoff: %w", err)
	}
	p := &Producer{o: o}
	// Continue after the newest item, should the clock have stepped back.
	ents, _ := os.ReadDir(filepath.Join(o.Dir, inDir))
	for _, e := range ents {
		var n int64
		if _, err := fmt.Sscanf(e.Name(), "%019d-", &n); err == nil {
			p.last = max(p.last, n)
		}
	}
	return p, nil
}

// WorkDir is where a producer may prepare a large file (a download) that
// Submit then moves into an item without copying. Files there survive
// restarts; the producer removes what it no longer needs.
func (p *Producer) WorkDir() string { return filepath.Join(p.o.Dir, workDir) }

// Submit writes it into the hand-off atomically (a directory written under
// tmp/, fsynced, renamed into in/) and returns its id. It refuses an item
// that breaks the limits (ErrBadItem) and, with MaxItems items waiting for
// acquire, returns ErrFull.
func (p *Producer) Submit(ctx context.Context, it Item) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	m := Meta{Format: Format, Kind: it.Kind, CreatedAt: p.o.Now().UTC(), Source: it.Source, Digest: it.Digest,
		Command: it.Command, Deployment: it.Deployment, Error: it.Error}
	var fileSize int64
	switch it.Kind {
	case KindCommand:
		if it.File != "" {
			return "", fmt.Errorf("%w: a command item has no file", ErrBadItem)
		}
		m.Size = int64(len(it.Envelope))
	case KindArtifact:
		if len(it.Envelope) > 0 {
			return "", fmt.Errorf("%w: an artifact item has no envelope", ErrBadItem)
		}
		if it.Error == "" {
			fi, err := os.Stat(it.File)
			if err != nil {
				return "", fmt.Errorf("handoff: artifact: %w", err)
			}
			if !fi.Mode().IsRegular() {
				return "", fmt.Errorf("%w: artifact %s is not a regular file", ErrBadItem, it.File)
			}
			fileSize = fi.Size()
			m.Size = fileSize
		} else if it.File != "" {
			return "", fmt.Errorf("%w: an artifact item with an error carries no file", ErrBadItem)
		}
	}
	m.ID = p.newID()
	if err := m.Check(p.o.MaxArtifactBytes); err != nil {
		return "", err
	}
	if err := p.collect(); err != nil {
		return "", err
	}
	n, err := p.waiting()
	if err != nil {
		return "", err
	}
	if n >= p.o.MaxItems {
		return "", fmt.Errorf("%w: %d items wait for the acquire role", ErrFull, n)
	}
	meta, err := encodeMeta(&m)
	if err != nil {
		return "", err
	}
	tmp := filepath.Join(p.o.Dir, tmpDir, m.ID)
	if err := os.Mkdir(tmp, dirMode); err != nil {
		return "", fmt.Errorf("handoff: %w", err)
	}
	if err := p.fill(tmp, &m, it); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("handoff: item %s: %w", m.ID, err)
	}
	if err := createFile(filepath.Join(tmp, metaName), meta); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("handoff: item %s: %w", m.ID, err)
	}
	if err := p.commit(tmp, m.ID); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("handoff: item %s: %w", m.ID, err)
	}
	return m.ID, nil
}

// commit makes the written item directory durable and moves it into in/.
func (p *Producer) commit(tmp, id string) error {
	if err := syncDir(tmp); err != nil {
		return err
	}
	in := filepath.Join(p.o.Dir, inDir)
	if err := os.Rename(tmp, filepath.Join(in, id)); err != nil {
		return err
	}
	return syncDir(in)
}

// fill writes the payload of it into the item directory dir.
func (p *Producer) fill(dir string, m *Meta, it Item) error {
	if !m.hasPayload() {
		return nil
	}
	dst := filepath.Join(dir, m.Kind.payloadName())
	if m.Kind == KindCommand {
		return createFile(dst, it.Envelope)
	}
	err := os.Rename(it.File, dst)
	if errors.Is(err, syscall.EXDEV) {
		return copyFile(it.File, dst, m.Size)
	}
	if err != nil {
		return err
	}
	return os.Chmod(dst, fileMode)
}

func copyFile(src, dst string, size int64) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return err
	}
	n, err := io.Copy(out, io.LimitReader(in, size+1))
	if err == nil && n != size {
		err = fmt.Errorf("%s changed size while copied (%d, then %d bytes)", src, size, n)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		os.Remove(src)
	}
	return err
}

// newID returns a fresh id that sorts in submission order, even when the
// clock steps back.
func (p *Producer) newID() string {
	var r [4]byte
	rand.Read(r[:])
	p.mu.Lock()
	n := max(p.o.Now().UnixNano(), p.last+1)
	p.last = n
	p.mu.Unlock()
	return fmt.Sprintf("%019d-%s", n, hex.EncodeToString(r[:]))
}

// State returns what acquire says about item id: its state file, else
// Queued while the item waits in the hand-off, else ErrNotFound.
func (p *Producer) State(id string) (State, error) {
	if !ValidID(id) {
		return State{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	b, err := os.ReadFile(filepath.Join(p.o.StateDir, id+".json"))
	if err == nil {
		return decodeState(b)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return State{}, fmt.Errorf("handoff: %w", err)
	}
	if _, err := os.Stat(filepath.Join(p.o.Dir, inDir, id)); err == nil {
		return State{Format: Format, ID: id, Phase: Queued}, nil
	}
	return State{}, fmt.Errorf("%w: %q", ErrNotFound, id)
}

// States returns the state of every item acquire knows, in id order. An
// unreadable state file is skipped.
func (p *Producer) States() ([]State, error) {
	ents, err := os.ReadDir(p.o.StateDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("handoff: %w", err)
	}
	var out []State
	for _, e := range ents {
		id, ok := stateID(e.Name())
		if !ok || len(out) >= 4*p.o.MaxStates {
			continue
		}
		if s, err := p.State(id); err == nil && s.Phase != Queued {
			out = append(out, s)
		}
	}
	return out, nil
}

// Items returns the metadata of the items in the hand-off, in id order.
func (p *Producer) Items() ([]Meta, error) {
	ents, err := os.ReadDir(filepath.Join(p.o.Dir, inDir))
	if err != nil {
		return nil, fmt.Errorf("handoff: %w", err)
	}
	var out []Meta
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(p.o.Dir, inDir, e.Name(), metaName))
		if err != nil {
			continue
		}
		if m, err := DecodeMeta(b); err == nil {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// collect removes the items acquire is done with (final state).
func (p *Producer) collect() error {
	ents, err := os.ReadDir(filepath.Join(p.o.Dir, inDir))
	if err != nil {
		return fmt.Errorf("handoff: %w", err)
	}
	for _, e := range ents {
		s, err := p.State(e.Name())
		if err == nil && s.Phase.Final() {
			if err := os.RemoveAll(filepath.Join(p.o.Dir, inDir, e.Name())); err != nil {
				return fmt.Errorf("handoff: remove finished item: %w", err)
			}
		}
	}
	return nil
}

// waiting counts the items acquire has not finished.
func (p *Producer) waiting() (int, error) {
	ents, err := os.ReadDir(filepath.Join(p.o.Dir, inDir))
	if err != nil {
		return 0, fmt.Errorf("handoff: %w", err)
	}
	return len(ents), nil
}

// Run removes finished items from the hand-off every few seconds until
// ctx ends.
func (p *Producer) Run(ctx context.Context) error {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if err := p.collect(); err != nil {
			p.o.Logger.Warn("hand-off: removing finished items failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func encodeMeta(m *Meta) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("handoff: encode item: %w", err)
	}
	if len(b) > MaxMetaBytes {
		return nil, fmt.Errorf("%w: %s would be %d bytes, limit %d", ErrBadItem, metaName, len(b), MaxMetaBytes)
	}
	return b, nil
}

func stateID(name string) (string, bool) {
	if filepath.Ext(name) != ".json" {
		return "", false
	}
	id := name[:len(name)-len(".json")]
	return id, ValidID(id)
}
