package spool

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"medagent/internal/field"
	"medagent/telemetry"
)

// Options configures a Writer or a Reader. Both sides of one spool must
// use the same Dir and Key; the size limits matter to the Writer only.
type Options struct {
	// Dir holds the spool: one sub-directory of segments per class, the
	// lock files and the state files.
	Dir string `yaml:"dir"`
	// MaxBytes bounds the segment files on disk. Default 64 MiB; at least
	// 4 × SegmentBytes.
	MaxBytes int64 `yaml:"max_bytes"`
	// SegmentBytes is the size at which a segment is sealed and a new one
	// started; eviction and ack-deletion work on whole segments.
	// Default 4 MiB, at least 4 KiB.
	SegmentBytes int64 `yaml:"segment_bytes"`
	// ReaderDir holds the Reader's own files (reader.lock, reader.cursor).
	// Empty means Dir. When the two roles run as different users, Dir
	// belongs to the writer (the reader may only read it) and ReaderDir to
	// the reader (the writer only reads the cursor there): the Reader then
	// never deletes, and the Writer deletes the segments wholly below the
	// reader's cursor when it starts and at every segment roll. Both sides
	// must be given the same ReaderDir.
	ReaderDir string `yaml:"reader_dir"`
	// ReserveBytes is file-system space the Writer holds for alarms and
	// events (Dir/writer.reserve, preallocated): when the file system is
	// full and no telemetry is left to evict, they draw on it. Telemetry
	// never does. Default 1 MiB, at least 64 KiB; not part of MaxBytes.
	ReserveBytes int64 `yaml:"reserve_bytes"`
	// Key, when set, must be 32 bytes: frames are sealed with AES-256-GCM.
	Key []byte `yaml:"-"`
	// Logger receives warnings (evictions, torn tails, corrupt frames).
	// Nil discards them.
	Logger *slog.Logger `yaml:"-"`
	// PollInterval is how often a Reader looks for new records while
	// Next waits. Default 25 ms.
	PollInterval time.Duration `yaml:"poll_interval"`
	// CursorInterval bounds how often the Reader persists its ack
	// cursor. Default 100 ms.
	CursorInterval time.Duration `yaml:"cursor_interval"`
}

// Defaults.
const (
	DefaultMaxBytes       = 64 << 20
	DefaultSegmentBytes   = 4 << 20
	DefaultReserveBytes   = 1 << 20
	minReserveBytes       = reserveChunk
	DefaultPollInterval   = 25 * time.Millisecond
	DefaultCursorInterval = 100 * time.Millisecond
	minSegmentBytes       = 4 << 10
	maxMaxBytes           = 1 << 40
	maxReserveBytes       = 1 << 30
)

// ErrClosed is returned by calls on a closed Writer or Reader.
var ErrClosed = errors.New("spool: closed")

func (o *Options) ensureDefaults() {
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.SegmentBytes == 0 {
		o.SegmentBytes = DefaultSegmentBytes
	}
	if o.ReserveBytes == 0 {
		o.ReserveBytes = DefaultReserveBytes
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.CursorInterval <= 0 {
		o.CursorInterval = DefaultCursorInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ReaderDir == "" {
		o.ReaderDir = o.Dir
	}
}

// splitDirs says whether the Reader keeps its state apart from Dir (and so
// leaves deleting acknowledged segments to the Writer).
func (o *Options) splitDirs() bool {
	return filepath.Clean(o.ReaderDir) != filepath.Clean(o.Dir)
}

func (o *Options) validate() error {
	if err := o.Check(); err != nil {
		return fmt.Errorf("spool: options: %w", err)
	}
	return nil
}

// DefaultOptions returns the defaults of every setting a configuration
// file may give (Dir has none).
func DefaultOptions() Options {
	return Options{MaxBytes: DefaultMaxBytes, SegmentBytes: DefaultSegmentBytes, ReserveBytes: DefaultReserveBytes,
		PollInterval: DefaultPollInterval, CursorInterval: DefaultCursorInterval}
}

// Check validates the options after defaults (zero sizes and intervals
// take them); a problem is a *field.Error naming the key. These are the
// spool's only rules: the configuration checks spool.* with them.
func (o Options) Check() error {
	o.ensureDefaults()
	switch {
	case o.Dir == "":
		return field.Errorf("dir", "dir is empty: name the spool directory")
	case o.SegmentBytes < minSegmentBytes:
		return field.Errorf("segment_bytes", "%d below %d", o.SegmentBytes, minSegmentBytes)
	case o.MaxBytes < 4*o.SegmentBytes:
		return field.Errorf("max_bytes", "%d must be at least 4 × segment_bytes (%d)", o.MaxBytes, 4*o.SegmentBytes)
	case o.MaxBytes > maxMaxBytes:
		return field.Errorf("max_bytes", "%d above %d (1 TiB)", o.MaxBytes, int64(maxMaxBytes))
	case o.ReserveBytes < minReserveBytes || o.ReserveBytes > maxReserveBytes:
		return field.Errorf("reserve_bytes", "%d not in %d..%d", o.ReserveBytes, minReserveBytes, maxReserveBytes)
	case o.PollInterval > time.Minute:
		return field.Errorf("poll_interval", "%v above 1m0s", o.PollInterval)
	case o.CursorInterval > time.Minute:
		return field.Errorf("cursor_interval", "%v above 1m0s", o.CursorInterval)
	case len(o.Key) != 0 && len(o.Key) != 32:
		return field.Errorf("key_file", "key is %d bytes, want 32 (AES-256)", len(o.Key))
	}
	return nil
}

func (o *Options) aead() (cipher.AEAD, error) {
	if len(o.Key) == 0 {
		return nil, nil
	}
	b, err := aes.NewCipher(o.Key)
	if err != nil {
		return nil, fmt.Errorf("spool: key: %w", err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return nil, fmt.Errorf("spool: key: %w", err)
	}
	return g, nil
}

func validClass(c telemetry.Class) error {
	if c < telemetry.ClassTelemetry || c > telemetry.ClassAlarm {
		return fmt.Errorf("spool: unknown class %d", c)
	}
	return nil
}
