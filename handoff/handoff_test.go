package handoff

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rig is a hand-off with both sides, on a settable clock.
type rig struct {
	dir, state string
	p          *Producer
	c          *Consumer
	got        []*Incoming
	now        time.Time
}

func newRig(t *testing.T, mod func(o *Options)) *rig {
	t.Helper()
	base := t.TempDir()
	r := &rig{dir: filepath.Join(base, "handoff"), state: filepath.Join(base, "shared", "handoff"),
		now: time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)}
	o := Options{Dir: r.dir, StateDir: r.state, Now: func() time.Time { return r.now },
		Handle: func(_ context.Context, in *Incoming) { r.got = append(r.got, in) }}
	if mod != nil {
		mod(&o)
	}
	var err error
	if r.p, err = OpenProducer(o); err != nil {
		t.Fatal(err)
	}
	if r.c, err = OpenConsumer(o); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, in := range r.got {
			in.Close()
		}
	})
	return r
}

func (r *rig) scan(t *testing.T) []*Incoming {
	t.Helper()
	n := len(r.got)
	if err := r.c.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.now = r.now.Add(time.Second)
	return r.got[n:]
}

func (r *rig) artifact(t *testing.T, content string) string {
	t.Helper()
	f := filepath.Join(r.p.WorkDir(), "dl")
	if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

const env = `{"v":1,"device":"MA-T","name":"diagnostics"}`

func TestSubmitAndConsume(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	cmd, err := r.p.Submit(ctx, Item{Kind: KindCommand, Envelope: []byte(env)})
	if err != nil {
		t.Fatal(err)
	}
	art, err := r.p.Submit(ctx, Item{Kind: KindArtifact, File: r.artifact(t, "mender bytes"), Source: "https://x/a.mender",
		Digest: "sha256:" + strings.Repeat("ab", 32), Command: cmd})
	if err != nil {
		t.Fatal(err)
	}
	if cmd >= art {
		t.Errorf("ids %q, %q do not sort in submission order", cmd, art)
	}
	if _, err := os.Stat(filepath.Join(r.p.WorkDir(), "dl")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the artifact was not moved out of the work dir: %v", err)
	}
	if st, err := r.p.State(cmd); err != nil || st.Phase != Queued {
		t.Errorf("state before acquire looked: %+v, %v; want queued", st, err)
	}
	got := r.scan(t)
	if len(got) != 2 || got[0].Meta.ID != cmd || got[1].Meta.ID != art {
		t.Fatalf("handed %d items, want the command then the artifact", len(got))
	}
	b, err := got[0].Envelope()
	if err != nil || string(b) != env {
		t.Errorf("envelope %q, %v", b, err)
	}
	f, err := got[1].OpenArtifact()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := io.ReadAll(f)
	f.Close()
	if string(a) != "mender bytes" || got[1].Meta.Command != cmd || got[1].Meta.Source != "https://x/a.mender" {
		t.Errorf("artifact %q, meta %+v", a, got[1].Meta)
	}
	for _, id := range []string{cmd, art} {
		if st, err := r.p.State(id); err != nil || st.Phase != Received {
			t.Errorf("state of %s: %+v, %v; want received", id, st, err)
		}
	}
	if again := r.scan(t); len(again) != 0 {
		t.Errorf("a second scan handed %d items again", len(again))
	}
	if err := r.c.Set(State{ID: cmd, Kind: KindCommand, Phase: Fetch, Fetch: &FetchRequest{URL: "https://x/a.mender", Digest: "sha256:00"}}); err != nil {
		t.Fatal(err)
	}
	if err := r.c.Set(State{ID: art, Kind: KindArtifact, Phase: Failure, Reason: "bad signature"}); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.p.State(art); st.Phase != Failure || st.Reason != "bad signature" {
		t.Errorf("producer reads %+v", st)
	}
	// The producer removes what is final, keeps what is under way.
	if err := r.p.collect(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(r.dir, inDir, art)); !errors.Is(err, os.ErrNotExist) {
		t.Error("a finished item stayed in the hand-off")
	}
	if _, err := os.Stat(filepath.Join(r.dir, inDir, cmd)); err != nil {
		t.Error("an item under way was removed")
	}
	// Acquire keeps the final state for Retention, then prunes it.
	r.scan(t)
	if _, err := r.p.State(art); err != nil {
		t.Errorf("final state gone at once: %v", err)
	}
	r.now = r.now.Add(25 * time.Hour)
	r.scan(t)
	if _, err := r.p.State(art); !errors.Is(err, ErrNotFound) {
		t.Errorf("final state of a removed item kept after the retention: %v", err)
	}
	if _, ok := r.c.Get(cmd); !ok {
		t.Error("the state of an item under way was pruned")
	}
}

// A restarted consumer keeps its states: nothing is taken twice, what was
// under way is listed for the agent to resume.
func TestConsumerRestart(t *testing.T) {
	r := newRig(t, nil)
	id, _ := r.p.Submit(context.Background(), Item{Kind: KindCommand, Envelope: []byte(env)})
	r.scan(t)
	r.c.Set(State{ID: id, Kind: KindCommand, Phase: Verifying})
	os.WriteFile(filepath.Join(r.state, "garbage.json"), []byte("{"), 0o600)
	c2, err := OpenConsumer(Options{Dir: r.dir, StateDir: r.state, Handle: func(context.Context, *Incoming) {
		t.Error("an item was handed again after a restart")
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	sts := c2.States()
	if len(sts) != 1 || sts[0].ID != id || sts[0].Phase != Verifying {
		t.Errorf("states after restart %+v", sts)
	}
	if _, err := os.Stat(filepath.Join(r.state, "garbage.json")); !errors.Is(err, os.ErrNotExist) {
		t.Error("an unreadable state file was kept")
	}
}

// A crash while writing leaves a directory under tmp/: the consumer never
// sees it and the producer clears it at its next start.
func TestHalfWrittenItemInvisible(t *testing.T) {
	r := newRig(t, nil)
	half := filepath.Join(r.dir, tmpDir, "0000000000000000001-deadbeef")
	os.MkdirAll(half, 0o750)
	os.WriteFile(filepath.Join(half, commandName), []byte(env[:10]), 0o640)
	if got := r.scan(t); len(got) != 0 {
		t.Fatalf("consumer took a half-written item")
	}
	if _, err := OpenProducer(Options{Dir: r.dir, StateDir: r.state}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(half); !errors.Is(err, os.ErrNotExist) {
		t.Error("the half-written item survived the producer's restart")
	}
}

func TestLimits(t *testing.T) {
	r := newRig(t, func(o *Options) { o.MaxItems = 2; o.MaxArtifactBytes = 100 })
	ctx := context.Background()
	var ids []string
	for range 2 {
		id, err := r.p.Submit(ctx, Item{Kind: KindCommand, Envelope: []byte(env)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := r.p.Submit(ctx, Item{Kind: KindCommand, Envelope: []byte(env)}); !errors.Is(err, ErrFull) {
		t.Fatalf("third item with MaxItems 2: %v, want ErrFull", err)
	}
	if _, err := r.p.Submit(ctx, Item{Kind: KindCommand, Envelope: make([]byte, MaxCommandBytes+1)}); !errors.Is(err, ErrBadItem) {
		t.Errorf("oversized command: %v, want ErrBadItem", err)
	}
	if _, err := r.p.Submit(ctx, Item{Kind: KindArtifact, File: r.artifact(t, strings.Repeat("x", 101)), Deployment: "d1"}); !errors.Is(err, ErrBadItem) {
		t.Errorf("oversized artifact: %v, want ErrBadItem", err)
	}
	if _, err := r.p.Submit(ctx, Item{Kind: KindArtifact, File: r.artifact(t, "x")}); !errors.Is(err, ErrBadItem) {
		t.Errorf("artifact for nobody: %v, want ErrBadItem", err)
	}
	r.scan(t)
	// Acquire finishes one: the producer may submit again, and the consumer
	// takes at most MaxItems under way.
	r.c.Set(State{ID: ids[0], Phase: Success})
	third, err := r.p.Submit(ctx, Item{Kind: KindCommand, Envelope: []byte(env)})
	if err != nil {
		t.Fatalf("after one finished: %v", err)
	}
	// A hostile producer ignores the limit: the consumer does not.
	writeItem(t, r.dir, "9999999999999999999-ffffffff", Meta{Kind: KindCommand, Size: int64(len(env))}, map[string]string{commandName: env})
	got := r.scan(t)
	if len(got) != 1 || got[0].Meta.ID != third {
		t.Fatalf("took %d items with one slot free", len(got))
	}
	if !r.c.Full() {
		t.Error("Full() false while an item waits")
	}
	r.c.Set(State{ID: third, Phase: Failure, Reason: "x"})
	if got := r.scan(t); len(got) != 1 || r.c.Full() {
		t.Errorf("the waiting item was not taken once a slot freed (%d taken, full %v)", len(got), r.c.Full())
	}
}

// writeItem writes an item directly, as a hostile producer could.
func writeItem(t *testing.T, dir, id string, m Meta, files map[string]string) string {
	t.Helper()
	d := filepath.Join(dir, inDir, id)
	if err := os.MkdirAll(d, 0o750); err != nil {
		t.Fatal(err)
	}
	if m.Format == 0 {
		m.Format = Format
	}
	if m.ID == "" {
		m.ID = id
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Unix(1, 0).UTC()
	}
	if _, ok := files[metaName]; !ok {
		b, _ := encodeMeta(&m)
		os.WriteFile(filepath.Join(d, metaName), b, 0o640)
	}
	for n, c := range files {
		os.WriteFile(filepath.Join(d, n), []byte(c), 0o640)
	}
	return d
}

// Hostile or broken items are refused with a reason naming the problem;
// the consumer goes on.
func TestHostileItems(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(outside, []byte(env), 0o600)
	cmdMeta := Meta{Kind: KindCommand, Size: int64(len(env))}
	cases := []struct {
		name  string
		make  func(t *testing.T, dir, id string)
		check func(in *Incoming) error // for items whose shape is sound
		want  string
	}{
		{"malformed item.json", func(t *testing.T, dir, id string) {
			writeItem(t, dir, id, cmdMeta, map[string]string{metaName: `{"format":1,`, commandName: env})
		}, nil, "item.json"},
		{"unknown field", func(t *testing.T, dir, id string) {
			writeItem(t, dir, id, cmdMeta, map[string]string{metaName: `{"format":1,"id":"` + id + `","kind":"command","size":3,"created_at":"2026-01-01T00:00:00Z","x":1}`, commandName: "abc"})
		}, nil, `unknown field "x"`},
		{"id of another directory", func(t *testing.T, dir, id string) {
			writeItem(t, dir, id, Meta{Kind: KindCommand, Size: 3, ID: "other"}, map[string]string{commandName: "abc"})
		}, nil, `names item "other"`},
		{"extra file", func(t *testing.T, dir, id string) {
			writeItem(t, dir, id, cmdMeta, map[string]string{commandName: env, "run.sh": "#!/bin/sh"})
		}, nil, `unexpected file "run.sh"`},
		{"no payload", func(t *testing.T, dir, id string) {
			writeItem(t, dir, id, cmdMeta, nil)
		}, nil, "without command.json"},
		{"unknown kind", func(t *testing.T, dir, id string) {
			writeItem(t, dir, id, Meta{Kind: "script", Size: 3}, map[string]string{"x": "abc"})
		}, nil, `unknown kind "script"`},
		{"oversized command", func(t *testing.T, dir, id string) {
			writeItem(t, dir, id, Meta{Kind: KindCommand, Size: MaxCommandBytes + 1}, map[string]string{commandName: env})
		}, nil, "want 1 to 65536"},
		{"item is a file", func(t *testing.T, dir, id string) {
			os.MkdirAll(filepath.Join(dir, inDir), 0o750)
			os.WriteFile(filepath.Join(dir, inDir, id), []byte(env), 0o640)
		}, nil, "not a directory"},
		{"item is a symlink to a directory", func(t *testing.T, dir, id string) {
			other := writeItem(t, t.TempDir(), id, cmdMeta, map[string]string{commandName: env})
			os.Symlink(other, filepath.Join(dir, inDir, id))
		}, nil, "not a directory"},
		{"item.json too big", func(t *testing.T, dir, id string) {
			writeItem(t, dir, id, cmdMeta, map[string]string{metaName: strings.Repeat(" ", MaxMetaBytes+1), commandName: env})
		}, nil, "limit"},
		{"payload links out of the hand-off", func(t *testing.T, dir, id string) {
			d := writeItem(t, dir, id, cmdMeta, nil)
			os.Symlink(outside, filepath.Join(d, commandName))
		}, func(in *Incoming) error { _, err := in.Envelope(); return err }, "escapes"},
		{"payload is a FIFO", func(t *testing.T, dir, id string) {
			d := writeItem(t, dir, id, cmdMeta, nil)
			if err := syscall.Mkfifo(filepath.Join(d, commandName), 0o640); err != nil {
				t.Skip("no FIFOs here:", err) // tmpfs and ext4 have them
			}
		}, func(in *Incoming) error { _, err := in.Envelope(); return err }, "not a regular file"},
		{"item.json is a FIFO", func(t *testing.T, dir, id string) {
			d := writeItem(t, dir, id, cmdMeta, map[string]string{commandName: env})
			os.Remove(filepath.Join(d, metaName))
			if err := syscall.Mkfifo(filepath.Join(d, metaName), 0o640); err != nil {
				t.Skip("no FIFOs here:", err)
			}
		}, nil, "not a regular file"},
		{"item.json links to a device", func(t *testing.T, dir, id string) {
			d := writeItem(t, dir, id, cmdMeta, map[string]string{commandName: env})
			os.Remove(filepath.Join(d, metaName))
			os.Symlink("/dev/zero", filepath.Join(d, metaName))
		}, nil, "escapes"},
		{"payload is a socket", func(t *testing.T, dir, id string) {
			d := writeItem(t, dir, id, cmdMeta, nil)
			l, err := net.Listen("unix", filepath.Join(d, commandName))
			if err != nil {
				t.Skip("no unix sockets here:", err)
			}
			t.Cleanup(func() { l.Close() })
		}, func(in *Incoming) error { _, err := in.Envelope(); return err }, "not a regular file"},
		{"payload is a directory", func(t *testing.T, dir, id string) {
			d := writeItem(t, dir, id, cmdMeta, nil)
			os.Mkdir(filepath.Join(d, commandName), 0o750)
		}, func(in *Incoming) error { _, err := in.Envelope(); return err }, "not a regular file"},
		{"payload links to another file in the hand-off", func(t *testing.T, dir, id string) {
			os.MkdirAll(filepath.Join(dir, "work"), 0o750)
			os.WriteFile(filepath.Join(dir, "work", "x"), []byte(env[:5]), 0o640)
			d := writeItem(t, dir, id, cmdMeta, nil)
			os.Symlink(filepath.Join("..", "..", "work", "x"), filepath.Join(d, commandName))
		}, func(in *Incoming) error { _, err := in.Envelope(); return err }, "item says"},
		{"command shorter than item says", func(t *testing.T, dir, id string) {
			writeItem(t, dir, id, cmdMeta, map[string]string{commandName: env[:5]})
		}, func(in *Incoming) error { _, err := in.Envelope(); return err }, "item says"},
		{"artifact larger than item says", func(t *testing.T, dir, id string) {
			writeItem(t, dir, id, Meta{Kind: KindArtifact, Size: 4, Deployment: "d"}, map[string]string{artifactName: "12345"})
		}, func(in *Incoming) error { f, err := in.OpenArtifact(); f.Close(); return err }, "item says"},
		{"artifact with error and file", func(t *testing.T, dir, id string) {
			writeItem(t, dir, id, Meta{Kind: KindArtifact, Size: 5, Deployment: "d", Error: "404"}, map[string]string{artifactName: "12345"})
		}, nil, "carries no file"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, nil)
			id := "000000000000000000" + string(rune('a'+i)) + "-00000000"
			tc.make(t, r.dir, id)
			// A sound item after the hostile one is still taken.
			good, err := r.p.Submit(context.Background(), Item{Kind: KindCommand, Envelope: []byte(env)})
			if err != nil {
				t.Fatal(err)
			}
			got := r.scan(t)
			var reason string
			if tc.check == nil {
				st, _ := r.p.State(id)
				if st.Phase != Failure {
					t.Fatalf("hostile item state %+v, want failure", st)
				}
				reason = st.Reason
				if len(got) != 1 || got[0].Meta.ID != good {
					t.Fatalf("handed %d items, want only the sound one", len(got))
				}
			} else {
				if len(got) != 2 || got[0].Meta.ID != id {
					t.Fatalf("handed %d items, want both", len(got))
				}
				err := tc.check(got[0])
				if err == nil {
					t.Fatal("reading the payload succeeded")
				}
				if !errors.Is(err, ErrBadItem) {
					t.Errorf("error %v does not wrap ErrBadItem", err)
				}
				reason = err.Error()
			}
			if !strings.Contains(reason, tc.want) {
				t.Errorf("reason %q does not say %q", reason, tc.want)
			}
		})
	}
}

// Entries that cannot be item ids get no state file (no path tricks).
func TestBadNamesIgnored(t *testing.T) {
	r := newRig(t, nil)
	os.MkdirAll(filepath.Join(r.dir, inDir, ".hidden"), 0o750)
	os.MkdirAll(filepath.Join(r.dir, inDir, "a b"), 0o750)
	if got := r.scan(t); len(got) != 0 {
		t.Fatal("took an entry with a bad name")
	}
	if ents, _ := os.ReadDir(r.state); len(ents) != 0 {
		t.Errorf("state files for bad names: %v", ents)
	}
}

func TestUplinkStatus(t *testing.T) {
	r := newRig(t, nil)
	if _, err := r.c.UplinkStatus(); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("no status yet: %v", err)
	}
	want := UplinkStatus{Connected: false, Broker: "tls://b:8883", Waiting: "certificate not valid before 2026", Updated: r.now}
	if err := r.p.WriteUplinkStatus(want); err != nil {
		t.Fatal(err)
	}
	got, err := r.c.UplinkStatus()
	want.Format = Format
	if err != nil || got != want {
		t.Errorf("read %+v, %v; want %+v", got, err, want)
	}
	os.WriteFile(filepath.Join(r.dir, uplinkStatusName), bytes.Repeat([]byte("x"), maxUplinkStatus+1), 0o640)
	if _, err := r.c.UplinkStatus(); err == nil {
		t.Error("an oversized status was read")
	}
}

// An artifact on another file system is copied into the item (bounded by
// the size Submit saw) and the original removed; one that changes size
// while copied is refused.
func TestCopyFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a")
	os.WriteFile(src, []byte("0123456789"), 0o600)
	if err := copyFile(src, filepath.Join(dir, "b"), 10); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "b")); string(b) != "0123456789" {
		t.Errorf("copied %q", b)
	}
	if _, err := os.Stat(src); !errors.Is(err, os.ErrNotExist) {
		t.Error("the original was kept")
	}
	os.WriteFile(src, []byte("0123456789abc"), 0o600)
	if err := copyFile(src, filepath.Join(dir, "c"), 10); err == nil || !strings.Contains(err.Error(), "changed size") {
		t.Errorf("a file that grew: %v", err)
	}
}
