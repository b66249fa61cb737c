// Package download fetches update artifacts for the uplink role: HTTPS
// only, the server verified against the configured trust anchors, no
// redirect to another host or scheme, bounded in size, resumable across
// broken connections and restarts (Range and If-Range from a durable
// checkpoint), with the SHA-256 of what was written.
//
// A checkpoint file (DST.state, JSON) holds the URL, the offset, the
// server's validator (ETag or Last-Modified) and the running SHA-256
// state; it is written after DST was fsynced up to that offset, so a
// restart truncates DST to the checkpoint and asks for the rest. A server
// that answers the resumed request with the whole resource (it changed, or
// it ignores Range) starts the download over. Errors that a retry cannot
// fix (4xx, too large, a refused redirect, an untrusted certificate) are
// ErrFinal; others are retried with doubling backoff while the download
// makes progress.
//
// The update engine has its own resumable reader (update/engine.Download)
// for the lab's one-process InstallURL; this client adds the bounds and the
// TLS and redirect policy that a download by the network-facing role needs.
package download

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrFinal marks errors that retrying cannot fix.
var ErrFinal = errors.New("download: not retried")

// Options configure a Client.
type Options struct {
	// RootCAs are the trust anchors of artifact servers; required.
	RootCAs *x509.CertPool
	// MaxBytes bounds a download; required.
	MaxBytes int64
	// Retries is the number of consecutive attempts without progress
	// before Fetch gives up; default 5.
	Retries int
	// Backoff is the first retry delay, doubled up to a minute; default 2 s.
	Backoff time.Duration
	// Idle bounds the wait for the next bytes; default 60 s.
	Idle time.Duration
	// CheckpointEvery is the bytes between durable checkpoints; default 4 MiB.
	CheckpointEvery int64
	// Transport, if set, replaces the HTTPS transport (tests); RootCAs is
	// then not used.
	Transport http.RoundTripper
}

// Client downloads artifacts.
type Client struct {
	o    Options
	http *http.Client
}

// LoadRoots reads PEM trust anchors from file.
func LoadRoots(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("download: trust anchors: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("download: trust anchors: no PEM certificate in %s", file)
	}
	return pool, nil
}

// New checks o and builds the HTTPS client.
func New(o Options) (*Client, error) {
	if o.RootCAs == nil && o.Transport == nil {
		return nil, errors.New("download: no trust anchors given")
	}
	if o.MaxBytes <= 0 {
		return nil, errors.New("download: no size bound given")
	}
	if o.Retries <= 0 {
		o.Retries = 5
	}
	if o.Backoff <= 0 {
		o.Backoff = 2 * time.Second
	}
	if o.Idle <= 0 {
		o.Idle = time.Minute
	}
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = 4 << 20
	}
	tr := o.Transport
	if tr == nil {
		tr = &http.Transport{
			Proxy:                 nil, // a device talks to its fleet directly
			TLSClientConfig:       &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          1,
		}
	}
	c := &Client{o: o}
	c.http = &http.Client{Transport: tr, CheckRedirect: checkRedirect}
	return c, nil
}

// checkRedirect allows at most 5 redirects, each to the same host over https.
func checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	switch {
	case len(via) > 5:
		return fmt.Errorf("%w: more than 5 redirects", ErrFinal)
	case req.URL.Scheme != "https":
		return fmt.Errorf("%w: redirect to %s:// refused (https only)", ErrFinal, req.URL.Scheme)
	case req.URL.Host != first.Host:
		return fmt.Errorf("%w: redirect from host %s to %s refused (same host only)", ErrFinal, first.Host, req.URL.Host)
	}
	return nil
}

// Result is a completed download.
type Result struct {
	Size   int64
	SHA256 [32]byte
}

// Digest is the result's digest as "sha256:<hex>".
func (r Result) Digest() string { return fmt.Sprintf("sha256:%x", r.SHA256) }

// checkpoint is DST.state.
type checkpoint struct {
	Version   int    `json:"version"`
	URL       string `json:"url"`
	Offset    int64  `json:"offset"`
	Validator string `json:"validator,omitempty"`
	Hash      []byte `json:"sha256_state"`
}

// Fetch downloads rawURL into dst, continuing an earlier attempt recorded
// in dst+".state". On success the checkpoint is removed.
func (c *Client) Fetch(ctx context.Context, rawURL, dst string) (Result, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return Result{}, fmt.Errorf("%w: %q is not an https URL", ErrFinal, rawURL)
	}
	j := &job{c: c, url: rawURL, dst: dst, state: dst + ".state", h: sha256.New()}
	if err := j.open(); err != nil {
		return Result{}, err
	}
	defer j.f.Close()
	failures := 0
	for {
		before := j.off
		err := j.attempt(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			j.save()
			return Result{}, fmt.Errorf("download: %s: %w", rawURL, ctx.Err())
		}
		if errors.Is(err, ErrFinal) {
			return Result{}, err
		}
		if j.off > before {
			failures = 0
		}
		failures++
		if failures >= c.o.Retries {
			j.save()
			return Result{}, fmt.Errorf("download: %s: gave up after %d attempts: %w", rawURL, failures, err)
		}
		d := min(c.o.Backoff<<(failures-1), time.Minute)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			j.save()
			return Result{}, fmt.Errorf("download: %s: %w", rawURL, ctx.Err())
		case <-t.C:
		}
	}
	if err := j.f.Sync(); err != nil {
		return Result{}, fmt.Errorf("download: fsync %s: %w", dst, err)
	}
	os.Remove(j.state)
	var r Result
	r.Size = j.off
	copy(r.SHA256[:], j.h.Sum(nil))
	return r, nil
}

// job is one Fetch.
type job struct {
	c               *Client
	url, dst        string
	state           string
	f               *os.File
	off             int64
	validator       string
	h               hash.Hash
	sinceCheckpoint int64
}

// open opens dst and restores the checkpoint, if one for this URL exists.
func (j *job) open() error {
	f, err := os.OpenFile(j.dst, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	j.f = f
	var cp checkpoint
	b, err := os.ReadFile(j.state)
	if err == nil && json.Unmarshal(b, &cp) == nil && cp.Version == 1 && cp.URL == j.url && cp.Offset > 0 && cp.Offset <= j.c.o.MaxBytes {
		if err := j.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(cp.Hash); err == nil {
			j.off, j.validator = cp.Offset, cp.Validator
		} else {
			j.h.Reset()
		}
	}
	return j.truncate()
}

// truncate drops what follows the offset (bytes after the checkpoint may
// be partial).
func (j *job) truncate() error {
	if err := j.f.Truncate(j.off); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if _, err := j.f.Seek(j.off, io.SeekStart); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	return nil
}

func (j *job) restart() error {
	j.off, j.validator, j.sinceCheckpoint = 0, "", 0
	j.h.Reset()
	os.Remove(j.state)
	return j.truncate()
}

// save makes the file durable up to the offset, then the checkpoint.
func (j *job) save() error {
	if err := j.f.Sync(); err != nil {
		return err
	}
	hs, err := j.h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return err
	}
	b, _ := json.Marshal(checkpoint{Version: 1, URL: j.url, Offset: j.off, Validator: j.validator, Hash: hs})
	tmp := j.state + ".tmp"
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return err
	}
	if f, err := os.Open(tmp); err == nil {
		f.Sync()
		f.Close()
	}
	if err := os.Rename(tmp, j.state); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(j.state)); err == nil {
		d.Sync()
		d.Close()
	}
	j.sinceCheckpoint = 0
	return nil
}

// attempt makes one request and copies what it gets; nil at the end of
// the resource.
func (j *job) attempt(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrFinal, err)
	}
	if j.off > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", j.off))
		if j.validator != "" {
			req.Header.Set("If-Range", j.validator)
		}
	}
	idle := time.AfterFunc(j.c.o.Idle, func() { cancel(fmt.Errorf("no data for %s", j.c.o.Idle)) })
	defer idle.Stop()
	resp, err := j.c.http.Do(req)
	if err != nil {
		if errors.Is(err, ErrFinal) {
			return err
		}
		var uerr x509.UnknownAuthorityError
		var herr x509.HostnameError
		if errors.As(err, &uerr) || errors.As(err, &herr) {
			return fmt.Errorf("%w: %s: server certificate refused: %v", ErrFinal, j.url, err)
		}
		return fmt.Errorf("download: %s: %w", j.url, err)
	}
	defer resp.Body.Close()
	total, err := j.accept(resp)
	if err != nil {
		return err
	}
	if total > j.c.o.MaxBytes {
		return fmt.Errorf("%w: %s is %d bytes, limit %d", ErrFinal, j.url, total, j.c.o.MaxBytes)
	}
	buf := make([]byte, 256<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			idle.Reset(j.c.o.Idle)
			if j.off+int64(n) > j.c.o.MaxBytes {
				return fmt.Errorf("%w: %s is larger than the limit of %d bytes", ErrFinal, j.url, j.c.o.MaxBytes)
			}
			if _, err := j.f.Write(buf[:n]); err != nil {
				return fmt.Errorf("%w: write %s: %v", ErrFinal, j.dst, err)
			}
			j.h.Write(buf[:n])
			j.off += int64(n)
			j.sinceCheckpoint += int64(n)
			if j.sinceCheckpoint >= j.c.o.CheckpointEvery {
				if err := j.save(); err != nil {
					return fmt.Errorf("%w: checkpoint: %v", ErrFinal, err)
				}
			}
		}
		if rerr == io.EOF {
			if total >= 0 && j.off != total {
				return fmt.Errorf("download: %s: ended at byte %d of %d", j.url, j.off, total)
			}
			return nil
		}
		if rerr != nil {
			if c := context.Cause(ctx); c != nil && ctx.Err() != nil {
				rerr = c
			}
			j.save()
			return fmt.Errorf("download: %s at byte %d: %w", j.url, j.off, rerr)
		}
	}
}

// accept checks the response status against what was asked and returns
// the resource's total size (-1 when unknown).
func (j *job) accept(resp *http.Response) (int64, error) {
	switch {
	case resp.StatusCode == http.StatusOK:
		if j.off > 0 {
			// Changed, or no Range support: start over.
			if err := j.restart(); err != nil {
				return 0, err
			}
		}
		if v := resp.Header.Get("ETag"); v != "" && !strings.HasPrefix(v, "W/") {
			j.validator = v
		} else {
			j.validator = resp.Header.Get("Last-Modified")
		}
		return resp.ContentLength, nil
	case resp.StatusCode == http.StatusPartialContent && j.off > 0:
		start, total, err := contentRange(resp.Header.Get("Content-Range"))
		if err != nil || start != j.off {
			if rerr := j.restart(); rerr != nil {
				return 0, rerr
			}
			return 0, fmt.Errorf("download: %s: Content-Range %q does not continue at the checkpoint; starting over", j.url, resp.Header.Get("Content-Range"))
		}
		return total, nil
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && j.off > 0:
		if err := j.restart(); err != nil {
			return 0, err
		}
		return 0, fmt.Errorf("download: %s: range not satisfiable; starting over", j.url)
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout:
		return 0, fmt.Errorf("download: %s: HTTP %s", j.url, resp.Status)
	}
	return 0, fmt.Errorf("%w: %s: HTTP %s", ErrFinal, j.url, resp.Status)
}

// contentRange parses "bytes START-END/TOTAL" (TOTAL may be "*").
func contentRange(s string) (start, total int64, err error) {
	rest, ok := strings.CutPrefix(s, "bytes ")
	rng, tot, ok2 := strings.Cut(rest, "/")
	a, _, ok3 := strings.Cut(rng, "-")
	if !ok || !ok2 || !ok3 {
		return 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	if start, err = strconv.ParseInt(a, 10, 64); err != nil {
		return 0, 0, err
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, err
		}
	}
	return start, total, nil
}
