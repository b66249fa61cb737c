package engine

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestInstallURLResumesAfterRestart: the agent stops in the middle of the
// download; the next agent's Resume continues it with a Range request from
// the durable checkpoint, installs, and the update commits.
func TestInstallURLResumesAfterRestart(t *testing.T) {
	w := newWorld(t)
	var mu sync.Mutex
	var ranges []string
	first := true
	srv := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		stall := first
		first = false
		mu.Unlock()
		rw.Header().Set("ETag", `"release-2"`)
		if stall {
			rw.Header().Set("Content-Length", "614417")
			rw.WriteHeader(http.StatusOK)
			rw.Write(w.newImg[:300<<10])
			rw.(http.Flusher).Flush()
			<-r.Context().Done() // the agent goes away mid-download
			return
		}
		http.ServeContent(rw, r, "a.mender", time.Time{}, bytes.NewReader(w.newImg))
	}))
	defer srv.Close()
	if len(w.newImg) != 614417 {
		t.Fatalf("payload size changed: %d", len(w.newImg))
	}
	dl := filepath.Join(w.dir, "download")
	must(t, os.Mkdir(dl, 0o755))
	mod := func(o *Options) {
		o.DownloadDir, o.HTTPClient, o.CheckpointEvery = dl, srv.Client(), 64<<10
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	e := w.engine(mod)
	go func() { done <- e.InstallURL(ctx, srv.URL+"/release-2.mender") }()
	waitFor(t, "a download checkpoint", func() bool {
		_, err := os.Stat(filepath.Join(dl, "update.fetch"))
		return err == nil
	})
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, errSuspended) {
		t.Fatalf("InstallURL after cancel: %v", err)
	}
	if j := e.Journal(); j.State != StateDownload || j.URL == "" {
		t.Fatalf("journal %s url %q", j.State, j.URL)
	}
	e = w.engine(mod)
	must(t, e.Resume(context.Background()))
	if st := e.Status(); st.State != StateReboot || w.reboots != 1 {
		t.Fatalf("after resume: %s, reboots %d", st.State, w.reboots)
	}
	mu.Lock()
	if len(ranges) != 2 || ranges[0] != "" || ranges[1] == "" || ranges[1] == "bytes=0-" {
		t.Errorf("requests %q: want a full GET then a Range continuation", ranges)
	}
	mu.Unlock()
	if _, err := os.Stat(filepath.Join(dl, "update.mender")); !errors.Is(err, os.ErrNotExist) {
		t.Error("downloaded artifact left behind")
	}
	if s := w.boot(); s.Name != "B" {
		t.Fatalf("booted %s", s.Name)
	}
	e = w.engine(mod)
	must(t, e.Resume(context.Background()))
	if e.Status().State != StateCommitted {
		t.Fatalf("state %s", e.Status().State)
	}
}
