package remote

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"medagent/update/engine"
)

// committedUpdater is an update engine whose committed provides the test sets.
type committedUpdater struct {
	mu        sync.Mutex
	installed map[string]string
}

func (u *committedUpdater) InstallWith(context.Context, io.Reader, engine.InstallOptions) error {
	return errors.New("not here")
}

func (u *committedUpdater) Status() engine.Status {
	u.mu.Lock()
	defer u.mu.Unlock()
	return engine.Status{State: engine.StateIdle, Installed: u.installed}
}

// TestPublishRunning: acquire publishes the running software for the
// uplink: the root file system's artifact_info while the update engine
// has committed nothing, the committed artifact's provides after a commit
// (even when the new root file system's artifact_info says otherwise), and
// nothing while neither is known.
func TestPublishRunning(t *testing.T) {
	upd := &committedUpdater{}
	info := filepath.Join(t.TempDir(), "artifact_info")
	r := newRig(t, func(o *Options) { o.Updates, o.ArtifactInfo = upd, info })
	var st runningState

	r.s.publishRunning(&st)
	if _, err := r.p.Running(); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("published with neither a commit nor an artifact_info: %v", err)
	}
	if st.err == "" {
		t.Error("the missing artifact_info was not reported")
	}

	os.WriteFile(info, []byte("artifact_name=factory-1\n"), 0o644)
	r.s.publishRunning(&st)
	got, err := r.p.Running()
	if err != nil || got.Provides["artifact_name"] != "factory-1" || got.Source != info {
		t.Fatalf("factory image: %+v, %v", got, err)
	}

	// An update committed: its name, not the one the image was built with.
	upd.mu.Lock()
	upd.installed = map[string]string{"artifact_name": "release-2", "rootfs-image.version": "2", "bad key": "dropped"}
	upd.mu.Unlock()
	r.s.publishRunning(&st)
	got, err = r.p.Running()
	if err != nil || got.Provides["artifact_name"] != "release-2" || got.Provides["rootfs-image.version"] != "2" || len(got.Provides) != 2 || got.Source != "update journal" {
		t.Fatalf("after a commit: %+v, %v", got, err)
	}
	// Unchanged: not written again.
	os.Remove(filepath.Join(r.o.Handoff.StateDir, "running.provides"))
	r.s.publishRunning(&st)
	if _, err := r.p.Running(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("rewritten although unchanged: %v", err)
	}
}
