package mender

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// maxDownloadTries bounds the attempts that bring no new byte.
const maxDownloadTries = 10

// errLinkExpired: the storage refused the link (403/401/410) or its expire
// time is past: the deployment must be asked for again.
var errLinkExpired = errors.New("mender: download link expired")

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// download fetches the artifact into the installer's work directory,
// resuming after a dropped connection and renewing an expired link. It
// returns the file and its digest ("sha256:<hex>").
func (c *Client) download(ctx context.Context, s *deployState) (string, string, error) {
	path := filepath.Join(c.inst.WorkDir(), "mender-"+unsafeName.ReplaceAllString(s.Deploy.ID, "_")+".part")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return "", "", fmt.Errorf("mender: download: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", "", fmt.Errorf("mender: download: %w", err)
	}
	off := fi.Size() // a download of the previous run goes on
	tries := 0
	for {
		if !s.Deploy.Artifact.Source.Expire.IsZero() && !c.now().Before(s.Deploy.Artifact.Source.Expire) {
			if err := c.renewLink(ctx, s); err != nil {
				return "", "", err
			}
		}
		n, done, err := c.fetch(ctx, f, s.Deploy.Artifact.Source.URI, off)
		if n < 0 { // the server sent the whole file again
			off, n = 0, -n
		}
		off += n
		c.update(func(st *Status) { st.Downloaded = off })
		if done {
			break
		}
		if errors.Is(err, errLinkExpired) {
			s.logf(c.now(), "INFO", "download link expired at %d bytes, asking for a new one", off)
			c.log.Info("mender: download link expired, asking for a new one", "deployment", s.Deploy.ID, "offset", off)
			if err := c.renewLink(ctx, s); err != nil {
				return "", "", err
			}
			continue
		}
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
		if n > 0 {
			tries = 0
		}
		tries++
		if tries > maxDownloadTries {
			return "", "", fmt.Errorf("mender: download: %d attempts without progress, last: %w", maxDownloadTries, err)
		}
		s.logf(c.now(), "WARN", "download interrupted at %d bytes (%v), resuming", off, err)
		c.log.Warn("mender: download interrupted, resuming", "deployment", s.Deploy.ID, "offset", off, "err", err)
		if err := c.sleep(ctx, c.backoff(tries-1)); err != nil {
			return "", "", err
		}
	}
	if err := f.Sync(); err != nil {
		return "", "", fmt.Errorf("mender: download: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", "", fmt.Errorf("mender: download: %w", err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", "", fmt.Errorf("mender: download: %w", err)
	}
	s.logf(c.now(), "INFO", "downloaded %d bytes", off)
	return path, "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// renewLink asks for the deployment again to get a fresh link; the
// deployment must still be the same one.
func (c *Client) renewLink(ctx context.Context, s *deployState) error {
	d, err := c.next(ctx)
	if err != nil {
		return fmt.Errorf("mender: renew download link: %w", err)
	}
	if d == nil || d.ID != s.Deploy.ID {
		return fmt.Errorf("mender: renew download link: %w (the server no longer offers deployment %s)", errAborted, s.Deploy.ID)
	}
	s.Deploy.Artifact.Source = d.Artifact.Source
	return c.saveState(s)
}

// fetch gets uri from byte off into f. n is the bytes added (negative: the
// server ignored the range and f was rewritten from 0); done says the
// file is complete.
func (c *Client) fetch(ctx context.Context, f *os.File, uri string, off int64) (n int64, done bool, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stall := time.AfterFunc(c.o.StallTimeout, func() { cancel(fmt.Errorf("no data for %v", c.o.StallTimeout)) })
	defer stall.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return 0, false, fmt.Errorf("mender: download: %w", err)
	}
	if off > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, false, cause(ctx, err)
	}
	defer resp.Body.Close()
	total := int64(-1)
	switch resp.StatusCode {
	case http.StatusOK:
		if off > 0 { // no range support: start again
			if err := f.Truncate(0); err != nil {
				return 0, false, err
			}
			off = 0
			defer func() { n = -n }()
		}
		total = resp.ContentLength
	case http.StatusPartialContent:
		start, size, ok := contentRange(resp.Header.Get("Content-Range"))
		if !ok || start != off {
			return 0, false, fmt.Errorf("mender: download: Content-Range %q for offset %d", resp.Header.Get("Content-Range"), off)
		}
		total = size
	case http.StatusRequestedRangeNotSatisfiable:
		if _, size, ok := contentRange(resp.Header.Get("Content-Range")); ok && size == off && off > 0 {
			return 0, true, nil // we had it all
		}
		return 0, false, fmt.Errorf("mender: download: range %d- not satisfiable", off)
	case http.StatusForbidden, http.StatusUnauthorized, http.StatusGone:
		return 0, false, errLinkExpired
	default:
		return 0, false, fmt.Errorf("mender: download: HTTP %d", resp.StatusCode)
	}
	if total > c.o.MaxArtifactBytes {
		return 0, false, fmt.Errorf("mender: download: %d bytes, over max_artifact_bytes %d", total, c.o.MaxArtifactBytes)
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return 0, false, err
	}
	buf := make([]byte, 64<<10)
	for {
		m, rerr := resp.Body.Read(buf)
		if m > 0 {
			if off+n+int64(m) > c.o.MaxArtifactBytes {
				return n, false, fmt.Errorf("mender: download: over max_artifact_bytes %d", c.o.MaxArtifactBytes)
			}
			if _, err := f.Write(buf[:m]); err != nil {
				return n, false, fmt.Errorf("mender: download: write: %w", err)
			}
			n += int64(m)
			stall.Reset(c.o.StallTimeout)
		}
		if rerr == io.EOF {
			if total >= 0 && off+n != total {
				return n, false, fmt.Errorf("mender: download: %d of %d bytes", off+n, total)
			}
			return n, true, nil
		}
		if rerr != nil {
			return n, false, cause(ctx, rerr)
		}
	}
}

func cause(ctx context.Context, err error) error {
	if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
		return fmt.Errorf("%w (%v)", err, c)
	}
	return err
}

// contentRange parses "bytes START-END/SIZE" or "bytes */SIZE".
func contentRange(h string) (start, size int64, ok bool) {
	rest, found := strings.CutPrefix(h, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, sz, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	size, err := strconv.ParseInt(sz, 10, 64)
	if err != nil || size < 0 {
		return 0, 0, false
	}
	if rng == "*" {
		return 0, size, true
	}
	a, _, found := strings.Cut(rng, "-")
	start, err = strconv.ParseInt(a, 10, 64)
	if !found || err != nil || start < 0 {
		return 0, 0, false
	}
	return start, size, true
}
