package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"medagent/handoff"
	"medagent/remote/download"
)

// Fetcher is the uplink side of updates: for every update command that
// acquire verified and that waits for its artifact (phase fetch), it
// downloads what the command names into the hand-off's work directory and
// submits it as an artifact item naming the command. A download that
// cannot succeed (4xx, too large, refused redirect or certificate, wrong
// digest) is submitted as an artifact item with the error, so that acquire
// fails the command with the reason; a network failure is retried.
type Fetcher struct {
	h   *handoff.Producer
	dl  *download.Client
	log *slog.Logger

	poll, retry time.Duration
	tried       map[string]time.Time // when a retryable download last failed
}

// NewFetcher returns a fetcher writing into h with dl.
func NewFetcher(h *handoff.Producer, dl *download.Client, log *slog.Logger) *Fetcher {
	return &Fetcher{h: h, dl: dl, log: log, poll: 2 * time.Second, retry: 30 * time.Second, tried: map[string]time.Time{}}
}

// Run looks for requested downloads until ctx ends.
func (f *Fetcher) Run(ctx context.Context) error {
	t := time.NewTicker(f.poll)
	defer t.Stop()
	for {
		f.once(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// once serves every waiting update command once.
func (f *Fetcher) once(ctx context.Context) {
	states, err := f.h.States()
	if err != nil {
		f.log.Warn("fetcher: reading acquire's states failed", "err", err)
		return
	}
	items, err := f.h.Items()
	if err != nil {
		f.log.Warn("fetcher: reading the hand-off failed", "err", err)
		return
	}
	served := map[string]bool{}
	for _, m := range items {
		if m.Kind == handoff.KindArtifact && m.Command != "" {
			served[m.Command] = true
		}
	}
	wanted := map[string]bool{}
	for _, st := range states {
		if st.Kind != handoff.KindCommand || st.Phase != handoff.Fetch || st.Fetch == nil || served[st.ID] {
			continue
		}
		wanted[st.ID] = true
		if time.Since(f.tried[st.ID]) < f.retry {
			continue
		}
		if ctx.Err() != nil {
			return
		}
		f.fetch(ctx, st)
	}
	f.clean(wanted)
}

// workFile is where the download for command item id goes.
func (f *Fetcher) workFile(id string) string {
	return filepath.Join(f.h.WorkDir(), id+".mender")
}

func (f *Fetcher) fetch(ctx context.Context, st handoff.State) {
	dst := f.workFile(st.ID)
	f.log.Info("fetcher: downloading an update", "item", st.ID, "url", st.Fetch.URL)
	r, err := f.dl.Fetch(ctx, st.Fetch.URL, dst)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		if !errors.Is(err, download.ErrFinal) {
			f.tried[st.ID] = time.Now()
			f.log.Warn("fetcher: download failed, will resume", "item", st.ID, "err", err)
			return
		}
		f.report(ctx, st, err.Error())
		return
	}
	if r.Digest() != st.Fetch.Digest {
		f.report(ctx, st, fmt.Sprintf("downloaded %d bytes with digest %s, the update command names %s", r.Size, r.Digest(), st.Fetch.Digest))
		return
	}
	id, err := f.h.Submit(ctx, handoff.Item{Kind: handoff.KindArtifact, File: dst, Source: st.Fetch.URL, Digest: r.Digest(), Command: st.ID})
	if err != nil {
		f.tried[st.ID] = time.Now()
		f.log.Warn("fetcher: artifact not handed over, will try again", "item", st.ID, "err", err)
		return
	}
	delete(f.tried, st.ID)
	f.log.Info("fetcher: artifact handed to the acquire role", "command", st.ID, "item", id, "bytes", r.Size)
}

// report tells acquire that the artifact cannot be had, and why.
func (f *Fetcher) report(ctx context.Context, st handoff.State, reason string) {
	f.remove(st.ID)
	if len(reason) > 500 {
		reason = reason[:500]
	}
	reason = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, reason)
	f.log.Warn("fetcher: download failed for good", "item", st.ID, "err", reason)
	if _, err := f.h.Submit(ctx, handoff.Item{Kind: handoff.KindArtifact, Source: st.Fetch.URL, Command: st.ID, Error: reason}); err != nil {
		f.tried[st.ID] = time.Now()
		f.log.Warn("fetcher: failure not handed over, will try again", "item", st.ID, "err", err)
	}
}

func (f *Fetcher) remove(id string) {
	os.Remove(f.workFile(id))
	os.Remove(f.workFile(id) + ".state")
}

// clean removes work files of commands that no longer wait.
func (f *Fetcher) clean(wanted map[string]bool) {
	ents, err := os.ReadDir(f.h.WorkDir())
	if err != nil {
		return
	}
	for _, e := range ents {
		id, _, _ := strings.Cut(e.Name(), ".mender")
		if id != e.Name() && !wanted[id] {
			os.Remove(filepath.Join(f.h.WorkDir(), e.Name()))
		}
	}
	for id := range f.tried {
		if !wanted[id] {
			delete(f.tried, id)
		}
	}
}
