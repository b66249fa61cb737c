package download

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"medagent/tlsconf/tlstest"
)

// server serves blob at /a.mender with ETag and Range support
// (http.ServeContent), plus what each test adds.
type server struct {
	*httptest.Server
	mu     sync.Mutex
	blob   []byte
	etag   string
	ranges []string     // Range headers seen
	cut    atomic.Int64 // when > 0, the next response stops after that many bytes
	mux    *http.ServeMux
}

func newServer(t *testing.T, size int) *server {
	t.Helper()
	s := &server{blob: make([]byte, size), etag: `"v1"`, mux: http.NewServeMux()}
	rand.Read(s.blob)
	s.mux.HandleFunc("/a.mender", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		blob, etag := s.blob, s.etag
		s.ranges = append(s.ranges, r.Header.Get("Range"))
		s.mu.Unlock()
		w.Header().Set("ETag", etag)
		if n := s.cut.Swap(0); n > 0 {
			// Announce everything, send n bytes, drop the connection.
			w.Header().Set("Content-Length", strconv.Itoa(len(blob)))
			w.WriteHeader(http.StatusOK)
			w.Write(blob[:n])
			panic(http.ErrAbortHandler)
		}
		http.ServeContent(w, r, "a.mender", time.Unix(1, 0), bytes.NewReader(blob))
	})
	s.Server = httptest.NewTLSServer(s.mux)
	t.Cleanup(s.Close)
	return s
}

func (s *server) roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.Certificate())
	return p
}

func client(t *testing.T, s *server, mod func(o *Options)) *Client {
	t.Helper()
	o := Options{RootCAs: s.roots(), MaxBytes: 1 << 20, Backoff: 10 * time.Millisecond, CheckpointEvery: 64 << 10}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFetch(t *testing.T) {
	s := newServer(t, 300<<10)
	dst := filepath.Join(t.TempDir(), "a.part")
	r, err := client(t, s, nil).Fetch(context.Background(), s.URL+"/a.mender", dst)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(dst)
	if !bytes.Equal(got, s.blob) || r.SHA256 != sha256.Sum256(s.blob) || r.Size != int64(len(s.blob)) {
		t.Errorf("downloaded %d bytes, result %+v", len(got), r)
	}
	if _, err := os.Stat(dst + ".state"); !errors.Is(err, os.ErrNotExist) {
		t.Error("checkpoint left after a complete download")
	}
}

// A connection broken mid-body is continued with a Range request.
func TestFetchResumesBrokenConnection(t *testing.T) {
	s := newServer(t, 300<<10)
	s.cut.Store(100 << 10)
	dst := filepath.Join(t.TempDir(), "a.part")
	r, err := client(t, s, nil).Fetch(context.Background(), s.URL+"/a.mender", dst)
	if err != nil {
		t.Fatal(err)
	}
	if r.SHA256 != sha256.Sum256(s.blob) {
		t.Error("digest of the resumed download is wrong")
	}
	if len(s.ranges) < 2 || !strings.HasPrefix(s.ranges[len(s.ranges)-1], "bytes=") {
		t.Errorf("requests %q: the second did not ask for the rest", s.ranges)
	}
}

// A download stopped with its process continues from the checkpoint in a
// new one; if the resource changed meanwhile (other ETag), it starts over.
func TestFetchResumesAcrossRestarts(t *testing.T) {
	for _, changed := range []bool{false, true} {
		t.Run(map[bool]string{false: "same", true: "changed"}[changed], func(t *testing.T) {
			s := newServer(t, 300<<10)
			s.cut.Store(200 << 10)
			dst := filepath.Join(t.TempDir(), "a.part")
			_, err := client(t, s, func(o *Options) { o.Retries = 1 }).Fetch(context.Background(), s.URL+"/a.mender", dst)
			if err == nil || errors.Is(err, ErrFinal) {
				t.Fatalf("first attempt: %v, want a retryable error", err)
			}
			if _, err := os.Stat(dst + ".state"); err != nil {
				t.Fatal("no checkpoint after an interrupted download")
			}
			if changed {
				s.mu.Lock()
				s.blob = append([]byte(nil), s.blob...)
				s.blob[0] ^= 0xff
				s.etag = `"v2"`
				s.mu.Unlock()
			}
			r, err := client(t, s, nil).Fetch(context.Background(), s.URL+"/a.mender", dst)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(dst)
			if !bytes.Equal(got, s.blob) || r.SHA256 != sha256.Sum256(s.blob) {
				t.Errorf("resumed download differs from the resource (changed %v)", changed)
			}
			if last := s.ranges[len(s.ranges)-1]; !strings.HasPrefix(last, "bytes=") || last == "bytes=0-" {
				t.Errorf("restart did not resume from its checkpoint: Range %q", last)
			}
		})
	}
}

func TestFetchRefusals(t *testing.T) {
	s := newServer(t, 300<<10)
	s.mux.HandleFunc("/other-host", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(s.URL, "127.0.0.1", "localhost", 1)+"/a.mender", http.StatusFound)
	})
	s.mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(s.URL, "https", "http", 1)+"/a.mender", http.StatusFound)
	})
	s.mux.HandleFunc("/same-host", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/a.mender", http.StatusFound)
	})
	s.mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		for range 40 {
			w.Write(make([]byte, 32<<10))
			w.(http.Flusher).Flush()
		}
	})
	var calls atomic.Int32
	s.mux.HandleFunc("/flaky", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok"))
	})
	stranger, err := tlstest.NewCA(t.TempDir(), "stranger")
	if err != nil {
		t.Fatal(err)
	}
	strangers := x509.NewCertPool()
	strangers.AddCert(stranger.Cert)
	cases := []struct {
		name, path string
		c          *Client
		want       string // "" means success
	}{
		{"same-host redirect", "/same-host", client(t, s, nil), ""},
		{"other-host redirect", "/other-host", client(t, s, nil), "same host only"},
		{"redirect to http", "/plain", client(t, s, nil), "https only"},
		{"too large", "/a.mender", client(t, s, func(o *Options) { o.MaxBytes = 100 << 10 }), "limit"},
		{"too large, no length", "/chunked", client(t, s, func(o *Options) { o.MaxBytes = 1 << 20 }), "larger than the limit"},
		{"not found", "/none", client(t, s, nil), "404"},
		{"untrusted server", "/a.mender", client(t, s, func(o *Options) { o.RootCAs = strangers }), "certificate"},
		{"busy, then fine", "/flaky", client(t, s, nil), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.c.Fetch(context.Background(), s.URL+tc.path, filepath.Join(t.TempDir(), "x"))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrFinal) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want a final error saying %q", err, tc.want)
			}
		})
	}
	if _, err := client(t, s, nil).Fetch(context.Background(), "http://example.net/a", filepath.Join(t.TempDir(), "x")); !errors.Is(err, ErrFinal) {
		t.Errorf("plain http URL: %v", err)
	}
}
