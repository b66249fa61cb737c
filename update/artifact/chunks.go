package artifact

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ChunkMetaKey is the key of the chunk list in a payload's meta-data
// (headers/NNNN/meta-data, covered by the manifest signature).
const ChunkMetaKey = "medagent.chunks"

// Chunk sizes: DefaultChunkSize is what MakeChunks uses; a signed list may
// use any size from MinChunkSize to MaxChunkSize (the reader holds one
// chunk in memory).
const (
	DefaultChunkSize = 1 << 20
	MinChunkSize     = 64 << 10
	MaxChunkSize     = 4 << 20
	chunksVersion    = 1
)

// Chunks is a signed list of SHA-256 digests of consecutive ChunkSize
// pieces of one payload file (the last piece may be shorter). With it the
// reader checks every piece before handing out any of its bytes, so an
// installer never writes unverified data.
type Chunks struct {
	Version   int      `json:"version"`
	File      string   `json:"file"` // payload file name, e.g. "rootfs.ext4"
	Size      int64    `json:"size"` // bytes of the file
	ChunkSize int64    `json:"chunk_size"`
	SHA256    []string `json:"sha256"` // hex, one per chunk

	sums [][32]byte
}

// ErrNoChunks reports a payload file without a signed chunk list while
// Options.RequireChunks is set.
var ErrNoChunks = errors.New("no signed chunk list")

// ChunkError reports the first chunk whose content differs from the signed
// list; no byte of it (or after it) was handed out. It wraps ErrChecksum.
type ChunkError struct {
	File   string
	Index  int   // chunk number, from 0
	Offset int64 // first byte of the chunk in the file
	Chunks int   // chunks in the file
}

func (e *ChunkError) Error() string {
	return fmt.Sprintf("artifact: %s: chunk %d of %d (bytes from %d) does not match the signed chunk list; nothing from it on was handed out",
		e.File, e.Index, e.Chunks, e.Offset)
}

// Unwrap makes errors.Is(err, ErrChecksum) true.
func (e *ChunkError) Unwrap() error { return ErrChecksum }

// parseChunks reads the chunk list from a payload's meta-data, nil when it
// has none. A present but malformed list is an error (fail closed).
func parseChunks(meta json.RawMessage) (*Chunks, error) {
	if len(meta) == 0 {
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(meta, &obj); err != nil {
		return nil, fmt.Errorf("meta-data: %w: %w", ErrFormat, err)
	}
	raw, ok := obj[ChunkMetaKey]
	if !ok {
		return nil, nil
	}
	var c Chunks
	if err := decodeStrict(raw, &c); err != nil {
		return nil, fmt.Errorf("meta-data %s: %w: %w", ChunkMetaKey, ErrFormat, err)
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("meta-data %s: %w: %w", ChunkMetaKey, ErrFormat, err)
	}
	return &c, nil
}

func (c *Chunks) check() error {
	switch {
	case c.Version != chunksVersion:
		return fmt.Errorf("version %d, this reader knows %d", c.Version, chunksVersion)
	case c.File == "" || !validName(c.File) || bytes.ContainsRune([]byte(c.File), '/'):
		return fmt.Errorf("file %q is not a payload file name", c.File)
	case c.ChunkSize < MinChunkSize || c.ChunkSize > MaxChunkSize:
		return fmt.Errorf("chunk_size %d outside %d..%d", c.ChunkSize, MinChunkSize, MaxChunkSize)
	case c.Size < 0:
		return fmt.Errorf("negative size %d", c.Size)
	}
	if want := (c.Size + c.ChunkSize - 1) / c.ChunkSize; int64(len(c.SHA256)) != want {
		return fmt.Errorf("%d digests for %d bytes in chunks of %d, want %d", len(c.SHA256), c.Size, c.ChunkSize, want)
	}
	c.sums = make([][32]byte, len(c.SHA256))
	for i, h := range c.SHA256 {
		if len(h) != 64 {
			return fmt.Errorf("digest %d is not 64 hex digits", i)
		}
		if _, err := hex.Decode(c.sums[i][:], []byte(h)); err != nil {
			return fmt.Errorf("digest %d: %w", i, err)
		}
	}
	return nil
}

// Len is the number of chunks.
func (c *Chunks) Len() int { return len(c.sums) }

// Sum is the signed digest of chunk i.
func (c *Chunks) Sum(i int) [32]byte { return c.sums[i] }

// MakeChunks reads a payload file from r and returns its chunk list for
// the given file name (chunkSize 0 means DefaultChunkSize).
func MakeChunks(r io.Reader, file string, chunkSize int64) (*Chunks, error) {
	if chunkSize == 0 {
		chunkSize = DefaultChunkSize
	}
	c := &Chunks{Version: chunksVersion, File: file, ChunkSize: chunkSize, SHA256: []string{}}
	buf := make([]byte, chunkSize)
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			s := sha256.Sum256(buf[:n])
			c.SHA256 = append(c.SHA256, hex.EncodeToString(s[:]))
			c.Size += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("artifact: chunks: %w", err)
		}
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("artifact: chunks: %w", err)
	}
	return c, nil
}

// MetaData returns the meta-data JSON object holding c, merged into base
// (another meta-data object, or nil).
func (c *Chunks) MetaData(base []byte) ([]byte, error) {
	obj := map[string]any{}
	if len(bytes.TrimSpace(base)) > 0 {
		if err := json.Unmarshal(base, &obj); err != nil {
			return nil, fmt.Errorf("artifact: meta-data to merge is not a JSON object: %w", err)
		}
	}
	obj[ChunkMetaKey] = c
	b, err := json.MarshalIndent(obj, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("artifact: meta-data: %w", err)
	}
	return append(b, '\n'), nil
}

// chunkState verifies a payload file chunk by chunk as it is read.
type chunkState struct {
	c    *Chunks
	buf  []byte // the current verified chunk not yet handed out
	next int    // next chunk to read
	mem  []byte // backing store, ChunkSize bytes, made on first use
}

// read fills p with verified bytes of the file from src (the inner tar).
// A chunk is read whole and compared with its signed digest before any of
// its bytes is handed out; when p can hold the whole chunk it is read and
// checked in place.
func (f *PayloadFile) readChunked(p []byte) (int, error) {
	cs := f.chunks
	if len(cs.buf) == 0 {
		if cs.next == cs.c.Len() {
			return 0, f.atEnd()
		}
		need := min(cs.c.ChunkSize, f.Size-int64(cs.next)*cs.c.ChunkSize)
		dst := p
		inPlace := int64(len(p)) >= need
		if !inPlace {
			if cs.mem == nil {
				cs.mem = make([]byte, cs.c.ChunkSize)
			}
			dst = cs.mem
		}
		dst = dst[:need]
		if _, err := io.ReadFull(f.r.inner, dst); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return 0, f.r.fail(fmt.Errorf("artifact: %s: ends inside chunk %d: %w", f.Name, cs.next, ErrTruncated))
			}
			return 0, f.r.fail(fmt.Errorf("artifact: %s: %w", f.Name, f.r.streamFailure(err)))
		}
		if sha256.Sum256(dst) != cs.c.Sum(cs.next) {
			return 0, f.r.fail(&ChunkError{File: f.Name, Index: cs.next, Offset: int64(cs.next) * cs.c.ChunkSize, Chunks: cs.c.Len()})
		}
		cs.next++
		if f.h != nil {
			f.h.Write(dst) // the whole-file hash too, unless TrustChunks
		}
		f.n += need
		if inPlace {
			return int(need), nil
		}
		cs.buf = dst
	}
	n := copy(p, cs.buf)
	cs.buf = cs.buf[n:]
	return n, nil
}
