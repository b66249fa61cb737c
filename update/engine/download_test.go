package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// flakyServer serves content with ETag and Range support over TLS and cuts
// the connection after cutAfter bytes for the first `cuts` requests.
type flakyServer struct {
	*httptest.Server
	mu       sync.Mutex
	content  []byte
	etag     string
	cuts     int
	cutAfter int
	ranges   []string
}

func newFlaky(t *testing.T, content []byte, cuts, cutAfter int) *flakyServer {
	fs := &flakyServer{content: content, etag: `"v1"`, cuts: cuts, cutAfter: cutAfter}
	fs.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.mu.Lock()
		fs.ranges = append(fs.ranges, r.Header.Get("Range"))
		cut := fs.cuts > 0
		fs.cuts--
		content, etag := fs.content, fs.etag
		fs.mu.Unlock()
		w.Header().Set("ETag", etag)
		var ww http.ResponseWriter = w
		if cut {
			ww = &cutWriter{ResponseWriter: w, left: fs.cutAfter}
		}
		http.ServeContent(ww, r, "artifact.mender", time.Time{}, bytes.NewReader(content))
	}))
	t.Cleanup(fs.Close)
	return fs
}

type cutWriter struct {
	http.ResponseWriter
	left int
}

func (c *cutWriter) Write(b []byte) (int, error) {
	if len(b) > c.left {
		c.ResponseWriter.Write(b[:c.left])
		c.ResponseWriter.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drop the connection mid-body
	}
	c.left -= len(b)
	return c.ResponseWriter.Write(b)
}

func TestDownloadResumesAfterCuts(t *testing.T) {
	content := randBytes(300<<10, 9)
	srv := newFlaky(t, content, 2, 70<<10)
	d := NewDownload(context.Background(), srv.Client(), srv.URL+"/a.mender")
	d.Backoff = time.Millisecond
	got, err := io.ReadAll(d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Fatalf("got %d bytes, content differs", len(got))
	}
	if s := sha256.Sum256(content); !bytes.Equal(d.Sum(), s[:]) {
		t.Error("running digest wrong")
	}
	if len(srv.ranges) != 3 || srv.ranges[0] != "" || !strings.HasPrefix(srv.ranges[1], "bytes=") {
		t.Errorf("requests: %q", srv.ranges)
	}
}

// TestDownloadStalledServerCutOff: a hostile server that sends a little
// and then holds the connection open without sending more is cut off after
// Idle, asked again from where it stopped, and given up on after
// MaxRetries; the read never waits without a bound. One that stalls once
// and then serves completes.
func TestDownloadStalledServerCutOff(t *testing.T) {
	content := randBytes(64<<10, 5)
	var requests sync.WaitGroup
	release := make(chan struct{})
	stalls := 100 // every request stalls (set per case)
	var mu sync.Mutex
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		defer requests.Done()
		mu.Lock()
		stall := stalls > 0
		stalls--
		mu.Unlock()
		w.Header().Set("ETag", `"v1"`)
		if !stall {
			http.ServeContent(w, r, "a", time.Time{}, bytes.NewReader(content))
			return
		}
		left := 100 // the first answer sends a little, the resumed ones nothing
		if r.Header.Get("Range") != "" {
			left = 0
		}
		http.ServeContent(&stallWriter{ResponseWriter: w, left: left, stop: r.Context().Done(), release: release}, r, "a", time.Time{}, bytes.NewReader(content))
	}))
	defer func() { close(release); requests.Wait(); srv.Close() }()

	d := NewDownload(context.Background(), srv.Client(), srv.URL)
	d.Idle, d.Backoff, d.MaxRetries = 200*time.Millisecond, time.Millisecond, 2
	done := make(chan error, 1)
	go func() { _, err := io.ReadAll(d); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "no data from the server for 200ms") {
			t.Fatalf("err = %v, want the stall named", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("download of a stalled server did not end")
	}
	d.Close()

	mu.Lock()
	stalls = 1
	mu.Unlock()
	d = NewDownload(context.Background(), srv.Client(), srv.URL)
	d.Idle, d.Backoff = 200*time.Millisecond, time.Millisecond
	defer d.Close()
	got, err := io.ReadAll(d)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("after one stall: %d bytes, err %v", len(got), err)
	}
}

// stallWriter writes left bytes, then holds the connection open, sending
// nothing, until the client goes away or the test ends.
type stallWriter struct {
	http.ResponseWriter
	left          int
	stop, release <-chan struct{}
}

func (s *stallWriter) Write(b []byte) (int, error) {
	if len(b) > s.left {
		s.ResponseWriter.Write(b[:s.left])
		s.ResponseWriter.(http.Flusher).Flush()
		s.left = 0
		select {
		case <-s.stop:
		case <-s.release:
		}
		return 0, http.ErrAbortHandler
	}
	s.left -= len(b)
	return s.ResponseWriter.Write(b)
}

func TestDownloadRefusesChangedResource(t *testing.T) {
	content := randBytes(100<<10, 9)
	srv := newFlaky(t, content, 1, 10<<10)
	d := NewDownload(context.Background(), srv.Client(), srv.URL)
	d.Backoff = time.Millisecond
	buf := make([]byte, 4<<10)
	if _, err := io.ReadFull(d, buf); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	srv.etag = `"v2"` // a new artifact was published under the same URL
	srv.content = randBytes(100<<10, 10)
	srv.mu.Unlock()
	_, err := io.ReadAll(d)
	if !errors.Is(err, ErrChanged) {
		t.Fatalf("err = %v, want ErrChanged", err)
	}
}

// TestFetchAcrossRestarts: a download that dies (no retries left) resumes
// in a new call from its durable checkpoint with a Range request.
func TestFetchAcrossRestarts(t *testing.T) {
	content := randBytes(1<<20+5, 11)
	srv := newFlaky(t, content, 1, 600<<10)
	dir := t.TempDir()
	dst, state := filepath.Join(dir, "a.mender"), filepath.Join(dir, "a.state")
	o := FetchOptions{Client: srv.Client(), CheckpointEvery: 128 << 10, MaxRetries: -1}
	if _, err := Fetch(context.Background(), srv.URL, dst, state, o); err == nil {
		t.Fatal("first fetch survived the cut without retries")
	}
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("no checkpoint: %v", err)
	}
	o.MaxRetries = 0
	sum, err := Fetch(context.Background(), srv.URL, dst, state, o)
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(content); !bytes.Equal(sum, want[:]) {
		t.Error("digest differs")
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, content) {
		t.Error("file differs")
	}
	if len(srv.ranges) != 2 || srv.ranges[1] == "" || srv.ranges[1] == "bytes=0-" {
		t.Errorf("second fetch did not resume with a range: %q", srv.ranges)
	}
	if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
		t.Error("checkpoint left behind")
	}
}
