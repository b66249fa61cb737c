package engine

import (
	"context"
	"crypto/sha256"
	"encoding"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrChanged: the resource changed between two parts of a resumed download.
var ErrChanged = errors.New("download: resource changed while resuming")

// DownloadState is a checkpoint of a download: enough to continue it in
// another process with a Range request and the same running SHA-256.
type DownloadState struct {
	URL         string `json:"url"`
	Offset      int64  `json:"offset"`
	Total       int64  `json:"total"`               // -1 when unknown
	Validator   string `json:"validator,omitempty"` // ETag or Last-Modified, sent as If-Range
	SHA256State []byte `json:"sha256_state,omitempty"`
}

// errFinal marks download errors that a retry cannot fix.
var errFinal = errors.New("not retried")

// Download is a resumable HTTPS GET. When the connection breaks it asks
// again from where it stopped (Range: bytes=N-, If-Range: validator), so the
// consumer sees one uninterrupted stream; it refuses to stitch together two
// versions of the resource (ErrChanged). It hashes what it delivers.
type Download struct {
	ctx        context.Context
	client     *http.Client
	st         DownloadState
	h          hash.Hash
	body       io.ReadCloser
	MaxRetries int           // consecutive failed attempts allowed; 0 means 5, negative none
	Backoff    time.Duration // first retry delay, doubled each time; default 1 s
	// MaxBytes bounds the resource (0: none): a larger announced length is
	// refused before the body is read, a longer body when it gets there.
	MaxBytes int64
	// Idle bounds the wait for the next bytes of a connection (default
	// 60 s): a server that stalls or trickles is cut off and asked again
	// from where it stopped, within MaxRetries.
	Idle    time.Duration
	retries int
	cancel  context.CancelCauseFunc // of the open connection
	reqCtx  context.Context
	idle    *time.Timer // fires cancel when no bytes came for Idle
}

// errStalled ends a connection that delivered nothing for Download.Idle.
var errStalled = errors.New("no data from the server")

// ErrTooLarge: the resource is larger than the download's bound.
var ErrTooLarge = errors.New("download: larger than its bound")

// ErrNoClient: no HTTPS client with the update server's trust anchors.
var ErrNoClient = errors.New("download: no HTTPS client configured (update.ca_file): refusing to use the system's trust anchors")

// NewDownload starts nothing yet; the first Read connects. client is the
// update client with the configured trust anchors (update/source); nil
// refuses to connect (ErrNoClient).
func NewDownload(ctx context.Context, client *http.Client, url string) *Download {
	return &Download{ctx: ctx, client: client, st: DownloadState{URL: url, Total: -1}, h: sha256.New()}
}

// ResumeDownload continues a download from a checkpoint.
func ResumeDownload(ctx context.Context, client *http.Client, st DownloadState) (*Download, error) {
	h := sha256.New()
	if st.Offset > 0 {
		if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(st.SHA256State); err != nil {
			return nil, fmt.Errorf("download: checkpoint hash state: %w", err)
		}
	}
	return &Download{ctx: ctx, client: client, st: st, h: h}, nil
}

// Checkpoint returns the state after the bytes delivered so far.
func (d *Download) Checkpoint() (DownloadState, error) {
	st := d.st
	b, err := d.h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return st, fmt.Errorf("download: %w", err)
	}
	st.SHA256State = b
	return st, nil
}

// Sum returns the SHA-256 of everything delivered (meaningful at EOF).
func (d *Download) Sum() []byte { return d.h.Sum(nil) }

// Offset is the number of bytes delivered.
func (d *Download) Offset() int64 { return d.st.Offset }

// Close releases the connection.
func (d *Download) Close() error {
	d.endConn()
	if d.body != nil {
		err := d.body.Close()
		d.body = nil
		return err
	}
	return nil
}

func (d *Download) Read(p []byte) (int, error) {
	for {
		if d.body == nil {
			if err := d.connect(); err != nil {
				if errors.Is(err, ErrChanged) || errors.Is(err, errFinal) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrNoClient) || !d.retry(err) {
					return 0, err
				}
				continue
			}
		}
		if d.MaxBytes > 0 && int64(len(p)) > d.MaxBytes-d.st.Offset+1 {
			p = p[:max(1, d.MaxBytes-d.st.Offset+1)]
		}
		n, err := d.body.Read(p)
		if err != nil && d.reqCtx != nil && errors.Is(context.Cause(d.reqCtx), errStalled) {
			err = fmt.Errorf("%w for %s", errStalled, d.idleBound())
		}
		if n > 0 {
			d.idle.Reset(d.idleBound())
			if d.MaxBytes > 0 && d.st.Offset+int64(n) > d.MaxBytes {
				d.Close()
				return 0, fmt.Errorf("download: %s: more than %d bytes: %w", d.st.URL, d.MaxBytes, ErrTooLarge)
			}
			d.h.Write(p[:n])
			d.st.Offset += int64(n)
			d.retries = 0
		}
		if err == io.EOF && (d.st.Total < 0 || d.st.Offset == d.st.Total) {
			return n, io.EOF
		}
		if err == io.EOF && d.st.Offset > d.st.Total {
			return n, fmt.Errorf("download: %s: more than the announced %d bytes", d.st.URL, d.st.Total)
		}
		if err != nil { // broken connection (or short body): resume
			d.Close()
			if n > 0 {
				return n, nil
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			if !d.retry(err) {
				return 0, fmt.Errorf("download: %s at byte %d: %w", d.st.URL, d.st.Offset, err)
			}
			continue
		}
		return n, nil
	}
}

func (d *Download) idleBound() time.Duration {
	if d.Idle > 0 {
		return d.Idle
	}
	return time.Minute
}

// endConn stops the idle timer and ends the connection's context.
func (d *Download) endConn() {
	if d.idle != nil {
		d.idle.Stop()
		d.idle = nil
	}
	if d.cancel != nil {
		d.cancel(context.Canceled)
		d.cancel, d.reqCtx = nil, nil
	}
}

// retry sleeps before the next attempt; false when giving up.
func (d *Download) retry(err error) bool {
	max, backoff := d.MaxRetries, d.Backoff
	if max == 0 {
		max = 5
	}
	if backoff == 0 {
		backoff = time.Second
	}
	if d.ctx.Err() != nil || d.retries >= max {
		return false
	}
	delay := backoff << d.retries
	d.retries++
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-d.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (d *Download) connect() error {
	d.endConn()
	ctx, cancel := context.WithCancelCause(d.ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.st.URL, nil)
	if err != nil {
		cancel(err)
		return fmt.Errorf("download: %w", err)
	}
	d.cancel, d.reqCtx = cancel, ctx
	d.idle = time.AfterFunc(d.idleBound(), func() { cancel(errStalled) })
	if d.st.Offset > 0 {
		if d.st.Validator == "" {
			return fmt.Errorf("download: %s: server gave no ETag or Last-Modified, cannot resume safely: %w", d.st.URL, ErrChanged)
		}
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", d.st.Offset))
		req.Header.Set("If-Range", d.st.Validator)
	}
	c := d.client
	if c == nil {
		return ErrNoClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	switch {
	case d.st.Offset == 0 && resp.StatusCode == http.StatusOK:
		if d.MaxBytes > 0 && resp.ContentLength > d.MaxBytes {
			resp.Body.Close()
			return fmt.Errorf("download: %s announces %d bytes, the bound is %d: %w", d.st.URL, resp.ContentLength, d.MaxBytes, ErrTooLarge)
		}
		d.st.Total = resp.ContentLength
		if v := resp.Header.Get("ETag"); v != "" && !strings.HasPrefix(v, "W/") {
			d.st.Validator = v
		} else if v := resp.Header.Get("Last-Modified"); v != "" {
			d.st.Validator = v
		}
	case d.st.Offset > 0 && resp.StatusCode == http.StatusPartialContent:
		start, total, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err != nil || start != d.st.Offset || (d.st.Total >= 0 && total >= 0 && total != d.st.Total) {
			resp.Body.Close()
			return fmt.Errorf("download: %s: Content-Range %q does not continue at %d: %w", d.st.URL, resp.Header.Get("Content-Range"), d.st.Offset, ErrChanged)
		}
		if d.st.Total < 0 {
			d.st.Total = total
		}
	case d.st.Offset > 0 && resp.StatusCode == http.StatusOK:
		resp.Body.Close()
		return fmt.Errorf("download: %s: server sent the whole resource again (changed, or no Range support): %w", d.st.URL, ErrChanged)
	default:
		resp.Body.Close()
		err := fmt.Errorf("download: %s: HTTP %s", d.st.URL, resp.Status)
		if resp.StatusCode < 500 {
			return fmt.Errorf("%w (%w)", err, errFinal)
		}
		return err
	}
	d.body = resp.Body
	return nil
}

// parseContentRange parses "bytes START-END/TOTAL" (TOTAL may be "*").
func parseContentRange(s string) (start, total int64, err error) {
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
