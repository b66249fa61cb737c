package handoff

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Consumer reads items from the hand-off and keeps their states: the
// acquire role's side. It never writes the hand-off directory.
type Consumer struct {
	o Options

	mu     sync.Mutex
	states map[string]State // every state file, by id
	noted  map[string]bool  // ids whose refusal was logged (bounded)
	full   bool             // the last scan left items waiting
}

// OpenConsumer makes the state directory and loads the states in it. A
// state file that does not decode (which only acquire writes) is removed
// with a warning.
func OpenConsumer(o Options) (*Consumer, error) {
	if err := o.ensureDefaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.StateDir, dirMode); err != nil {
		return nil, fmt.Errorf("handoff: state directory: %w", err)
	}
	c := &Consumer{o: o, states: map[string]State{}, noted: map[string]bool{}}
	ents, err := os.ReadDir(o.StateDir)
	if err != nil {
		return nil, fmt.Errorf("handoff: state directory: %w", err)
	}
	for _, e := range ents {
		id, ok := stateID(e.Name())
		if !ok {
			continue
		}
		p := filepath.Join(o.StateDir, e.Name())
		b, err := os.ReadFile(p)
		var s State
		if err == nil {
			s, err = decodeState(b)
		}
		if err == nil && s.ID != id {
			err = fmt.Errorf("names item %q", s.ID)
		}
		if err != nil {
			o.Logger.Warn("hand-off: removing an unreadable state file", "file", p, "err", err)
			os.Remove(p)
			continue
		}
		c.states[id] = s
	}
	return c, nil
}

// Incoming is an item acquire has just read: its metadata (claims of the
// producer) and access to its payload.
type Incoming struct {
	Meta Meta
	root *os.Root // the hand-off directory
	max  int64
}

func (in *Incoming) payload() string {
	return filepath.Join(inDir, in.Meta.ID, in.Meta.Kind.payloadName())
}

// Envelope returns a command item's bytes, checked against the size the
// item names.
func (in *Incoming) Envelope() ([]byte, error) {
	if in.Meta.Kind != KindCommand {
		return nil, fmt.Errorf("%w: item %s is not a command", ErrBadItem, in.Meta.ID)
	}
	b, err := readRegular(in.root, in.payload(), MaxCommandBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: item %s: %v", ErrBadItem, in.Meta.ID, err)
	}
	if int64(len(b)) != in.Meta.Size {
		return nil, fmt.Errorf("%w: item %s: command of %d bytes, item says %d", ErrBadItem, in.Meta.ID, len(b), in.Meta.Size)
	}
	return b, nil
}

// OpenArtifact opens an artifact item's file for reading. Its size is
// checked here; its content (signature, digest) is the reader's to check.
func (in *Incoming) OpenArtifact() (*os.File, error) {
	if in.Meta.Kind != KindArtifact || !in.Meta.hasPayload() {
		return nil, fmt.Errorf("%w: item %s carries no artifact", ErrBadItem, in.Meta.ID)
	}
	f, fi, err := openRegular(in.root, in.payload(), in.max)
	if err != nil {
		return nil, fmt.Errorf("%w: item %s: %v", ErrBadItem, in.Meta.ID, err)
	}
	if fi.Size() != in.Meta.Size {
		f.Close()
		return nil, fmt.Errorf("%w: item %s: artifact of %d bytes, item says %d", ErrBadItem, in.Meta.ID, fi.Size(), in.Meta.Size)
	}
	return f, nil
}

// Close releases the hand-off directory.
func (in *Incoming) Close() error { return in.root.Close() }

// Run looks for new items every Poll until ctx ends and hands each sound
// one to Options.Handle; a hostile item is refused with its reason in its
// state and never stops Run. Final states of items the producer removed
// are pruned after Retention.
func (c *Consumer) Run(ctx context.Context) error {
	t := time.NewTicker(c.o.Poll)
	defer t.Stop()
	for {
		if err := c.Scan(ctx); err != nil && ctx.Err() == nil {
			c.o.Logger.Warn("hand-off: scan failed", "dir", c.o.Dir, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Scan looks at the hand-off once (Run calls it every Poll).
func (c *Consumer) Scan(ctx context.Context) error {
	root, err := os.OpenRoot(c.o.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("handoff: %w", err)
	}
	defer root.Close()
	names, more, err := readNames(root, inDir, 4*c.o.MaxStates)
	if err != nil {
		return fmt.Errorf("handoff: %w", err)
	}
	sort.Strings(names)
	present := make(map[string]bool, len(names))
	waiting := false
	for _, id := range names {
		if ctx.Err() != nil {
			return nil
		}
		present[id] = true
		if !ValidID(id) {
			c.noteOnce(id, "hand-off: ignoring an entry that is not an item id")
			continue
		}
		if _, known := c.Get(id); known {
			continue
		}
		if c.pending() >= c.o.MaxItems || c.count() >= c.o.MaxStates {
			waiting = true
			continue
		}
		c.take(ctx, root, id)
	}
	c.setFull(waiting || more)
	if !more {
		c.prune(present)
	}
	return nil
}

// take reads item id and hands it on, or refuses it.
func (c *Consumer) take(ctx context.Context, root *os.Root, id string) {
	m, err := c.load(root, id)
	if err != nil {
		c.o.Logger.Warn("hand-off: item refused", "item", id, "err", err)
		c.set(State{ID: id, Kind: m.Kind, Phase: Failure, Reason: err.Error()})
		return
	}
	if !c.set(State{ID: id, Kind: m.Kind, Phase: Received}) {
		return
	}
	sub, err := root.OpenRoot(".")
	if err != nil {
		c.set(State{ID: id, Kind: m.Kind, Phase: Failure, Reason: err.Error()})
		return
	}
	in := &Incoming{Meta: m, root: sub, max: c.o.MaxArtifactBytes}
	if c.o.Handle == nil {
		in.Close()
		return
	}
	c.o.Handle(ctx, in)
}

// load reads and checks item id: a directory holding item.json and
// exactly the payload its kind names, each a regular file within limits.
func (c *Consumer) load(root *os.Root, id string) (Meta, error) {
	dir := filepath.Join(inDir, id)
	fi, err := root.Lstat(dir)
	if err != nil {
		return Meta{}, fmt.Errorf("%w: %v", ErrBadItem, err)
	}
	if !fi.IsDir() {
		return Meta{}, fmt.Errorf("%w: %s is not a directory (%s)", ErrBadItem, id, fi.Mode().Type())
	}
	names, more, err := readNames(root, dir, 2)
	if err != nil {
		return Meta{}, fmt.Errorf("%w: %v", ErrBadItem, err)
	}
	b, err := readRegular(root, filepath.Join(dir, metaName), MaxMetaBytes)
	if err != nil {
		return Meta{}, fmt.Errorf("%w: %v", ErrBadItem, err)
	}
	m, err := DecodeMeta(b)
	if err != nil {
		return Meta{}, err
	}
	if err := m.Check(c.o.MaxArtifactBytes); err != nil {
		return m, err
	}
	if m.ID != id {
		return m, fmt.Errorf("%w: item.json names item %q, the directory is %q", ErrBadItem, m.ID, id)
	}
	want := map[string]bool{metaName: true}
	if m.hasPayload() {
		want[m.Kind.payloadName()] = true
	}
	for _, n := range names {
		if !want[n] {
			return m, fmt.Errorf("%w: unexpected file %q in a %s item", ErrBadItem, n, m.Kind)
		}
		delete(want, n)
	}
	if more {
		return m, fmt.Errorf("%w: more files than a %s item has", ErrBadItem, m.Kind)
	}
	for n := range want {
		return m, fmt.Errorf("%w: %s item without %s", ErrBadItem, m.Kind, n)
	}
	return m, nil
}

// Set records s (durably, before it returns) for producers to read.
func (c *Consumer) Set(s State) error {
	s.Updated = c.o.Now().UTC()
	b, err := s.encode()
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(c.o.StateDir, s.ID+".json"), b); err != nil {
		return fmt.Errorf("handoff: save state of %s: %w", s.ID, err)
	}
	c.mu.Lock()
	c.states[s.ID] = s
	c.mu.Unlock()
	return nil
}

// set is Set that logs its failure; false when it failed.
func (c *Consumer) set(s State) bool {
	if err := c.Set(s); err != nil {
		c.o.Logger.Error("hand-off: state not saved", "item", s.ID, "err", err)
		return false
	}
	return true
}

// Get returns the state of item id, if acquire has one.
func (c *Consumer) Get(id string) (State, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.states[id]
	return s, ok
}

// States returns every state, in id order (acquire's restart: what was
// under way).
func (c *Consumer) States() []State {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]State, 0, len(c.states))
	for _, s := range c.states {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Full reports whether the last scan left items waiting because MaxItems
// are under way or MaxStates are kept.
func (c *Consumer) Full() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.full
}

func (c *Consumer) setFull(f bool) {
	c.mu.Lock()
	changed := f != c.full
	c.full = f
	c.mu.Unlock()
	if changed && f {
		c.o.Logger.Warn("hand-off: items wait: too many under way or kept", "max_items", c.o.MaxItems, "max_states", c.o.MaxStates)
	}
}

func (c *Consumer) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, s := range c.states {
		if !s.Phase.Final() {
			n++
		}
	}
	return n
}

func (c *Consumer) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.states)
}

// prune removes final states whose item the producer removed, once older
// than Retention, or at once when more than half of MaxStates are kept.
// A state of an item still present is never removed: the item would be
// taken again.
func (c *Consumer) prune(present map[string]bool) {
	c.mu.Lock()
	var gone []State
	for id, s := range c.states {
		if s.Phase.Final() && !present[id] {
			gone = append(gone, s)
		}
	}
	crowded := len(c.states) > c.o.MaxStates/2
	c.mu.Unlock()
	now := c.o.Now()
	for _, s := range gone {
		if !crowded && now.Sub(s.Updated) < c.o.Retention {
			continue
		}
		err := os.Remove(filepath.Join(c.o.StateDir, s.ID+".json"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			c.o.Logger.Warn("hand-off: removing an old state failed", "item", s.ID, "err", err)
			continue
		}
		c.mu.Lock()
		delete(c.states, s.ID)
		c.mu.Unlock()
	}
}

// noteOnce logs msg once per id (at most 64 ids are remembered).
func (c *Consumer) noteOnce(id, msg string) {
	c.mu.Lock()
	seen := c.noted[id]
	if !seen && len(c.noted) < 64 {
		c.noted[id] = true
	}
	c.mu.Unlock()
	if !seen {
		c.o.Logger.Warn(msg, "entry", fmt.Sprintf("%q", id))
	}
}
