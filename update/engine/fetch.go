package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
)

// FetchOptions configure Fetch.
type FetchOptions struct {
	Client          *http.Client // with the update server's trust anchors; nil refuses
	CheckpointEvery int64        // bytes between durable checkpoints; 0 means 4 MiB
	MaxRetries      int          // per Download; 0 means 5, negative means none
	// MaxBytes bounds the download (0: none).
	MaxBytes int64
	// Bound, when set, is given the downloaded prefix (from byte 0) as it
	// grows, until it decides: a positive result tightens MaxBytes (the
	// size the artifact's signed header declares), -1 means "decided, no
	// tighter bound", 0 "need more bytes"; an error stops the download.
	// Undecided after MaxHeaderBytes, the download is refused.
	Bound func(prefix io.Reader) (int64, error)
}

// MaxHeaderBytes is how far into an artifact its signed header must end.
const MaxHeaderBytes = 4 << 20

const fetchStateVersion = 1

type fetchState struct {
	Version int           `json:"version"`
	State   DownloadState `json:"download"`
}

// Fetch downloads url into the file dst, resumable across restarts: every
// CheckpointEvery bytes it fsyncs dst and then durably writes the download
// state (offset, validator, running SHA-256 state) to statePath. Called
// again after an interruption it truncates dst to the checkpoint and
// continues with a Range request. It returns the SHA-256 of the whole
// resource and removes statePath when done.
func Fetch(ctx context.Context, url, dst, statePath string, o FetchOptions) ([]byte, error) {
	every := o.CheckpointEvery
	if every <= 0 {
		every = 4 << 20
	}
	var d *Download
	b, err := os.ReadFile(statePath)
	switch {
	case errors.Is(err, os.ErrNotExist):
		d = NewDownload(ctx, o.Client, url)
	case err != nil:
		return nil, fmt.Errorf("fetch: %w", err)
	default:
		var fs fetchState
		if err := json.Unmarshal(b, &fs); err != nil || fs.Version != fetchStateVersion {
			return nil, fmt.Errorf("fetch: %s: unreadable or unknown version (remove it to start over): %v", statePath, err)
		}
		if fs.State.URL != url {
			return nil, fmt.Errorf("fetch: %s belongs to %s, not %s", statePath, fs.State.URL, url)
		}
		if d, err = ResumeDownload(ctx, o.Client, fs.State); err != nil {
			return nil, err
		}
	}
	d.MaxRetries = o.MaxRetries
	d.MaxBytes = o.MaxBytes
	defer d.Close()
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	defer f.Close()
	// Bytes after the checkpoint may be partial: drop them.
	if err := f.Truncate(d.Offset()); err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if _, err := f.Seek(d.Offset(), io.SeekStart); err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	buf := make([]byte, 256<<10)
	since := int64(0)
	bd := bounder{f: o.Bound, path: dst, next: 64 << 10}
	if err := bd.offer(d, false); err != nil {
		return nil, err
	}
	for {
		n, rerr := d.Read(buf)
		if n > 0 {
			if _, err := f.Write(buf[:n]); err != nil {
				return nil, fmt.Errorf("fetch: write %s: %w", dst, err)
			}
			since += int64(n)
		}
		if err := bd.offer(d, rerr == io.EOF); err != nil {
			return nil, err
		}
		if since >= every || (rerr != nil && rerr != io.EOF) {
			if err := checkpoint(f, d, statePath); err != nil {
				return nil, err
			}
			since = 0
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return nil, rerr
		}
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("fetch: fsync %s: %w", dst, err)
	}
	if err := os.Remove(statePath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	return d.Sum(), nil
}

// checkpoint makes the file durable first, then the state that points into it.
func checkpoint(f *os.File, d *Download, statePath string) error {
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fetch: fsync: %w", err)
	}
	st, err := d.Checkpoint()
	if err != nil {
		return err
	}
	b, err := json.Marshal(fetchState{Version: fetchStateVersion, State: st})
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	return writeFileAtomic(statePath, b)
}

// bounder offers the downloaded prefix to FetchOptions.Bound.
type bounder struct {
	f    func(io.Reader) (int64, error)
	path string
	next int64 // offer again when this many bytes are in
	done bool
}

func (b *bounder) offer(d *Download, atEOF bool) error {
	if b.f == nil || b.done || (d.Offset() < b.next && !atEOF) || d.Offset() == 0 {
		return nil
	}
	r, err := os.Open(b.path)
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	n, err := b.f(io.LimitReader(r, d.Offset()))
	r.Close()
	switch {
	case err != nil:
		return err
	case n > 0:
		b.done = true
		if d.MaxBytes == 0 || n < d.MaxBytes {
			d.MaxBytes = n
		}
		if d.Offset() > d.MaxBytes {
			return fmt.Errorf("fetch: %s: %d bytes already, the signed header allows %d: %w", d.st.URL, d.Offset(), n, ErrTooLarge)
		}
	case n < 0:
		b.done = true
	case atEOF || d.Offset() >= MaxHeaderBytes:
		return fmt.Errorf("fetch: %s: no complete artifact header in the first %d bytes", d.st.URL, d.Offset())
	default:
		b.next = d.Offset() * 2
	}
	return nil
}
