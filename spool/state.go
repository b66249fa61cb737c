package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"medagent/telemetry"
)

// State files are small, versioned, checksummed and written durably:
// temp file, fsync, rename, fsync directory. A crash leaves the old or the
// new file, never a mix.
const (
	cursorFile    = "reader.cursor"
	writerFile    = "writer.state"
	stateVersion  = 1
	cursorFileLen = 4 + 1 + 3 + 3*16 + 8 + 4
	writerFileLen = 4 + 1 + 3 + 3*8 + 8 + 4
)

var (
	cursorMagic = [4]byte{'M', 'S', 'C', 'R'}
	writerMagic = [4]byte{'M', 'S', 'W', 'S'}
)

// pos is a place in a class log. The zero pos is before everything.
type pos struct {
	Seg uint64
	Off int64
}

func (p pos) less(q pos) bool {
	if p.Seg != q.Seg {
		return p.Seg < q.Seg
	}
	return p.Off < q.Off
}

// classIndex maps a class to 0..2.
func classIndex(c telemetry.Class) int { return int(c) - 1 }

// classes in the order Reader.Next serves them.
var classes = [3]telemetry.Class{telemetry.ClassAlarm, telemetry.ClassEvent, telemetry.ClassTelemetry}

// cursorState is what the reader persists: per class, the lowest position
// not yet acknowledged, and the corrupt frames it skipped.
type cursorState struct {
	Cursor  [3]pos
	Corrupt uint64
}

// writerState is what the writer persists: evicted records per class and
// torn tails it truncated.
type writerState struct {
	Evicted [3]uint64
	Torn    uint64
}

func encodeCursor(s cursorState) []byte {
	b := make([]byte, 0, cursorFileLen)
	b = append(b, cursorMagic[:]...)
	b = append(b, stateVersion, 0, 0, 0)
	for _, p := range s.Cursor {
		b = binary.LittleEndian.AppendUint64(b, p.Seg)
		b = binary.LittleEndian.AppendUint64(b, uint64(p.Off))
	}
	b = binary.LittleEndian.AppendUint64(b, s.Corrupt)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeCursor(b []byte) (cursorState, error) {
	var s cursorState
	if err := checkState(b, cursorMagic, cursorFileLen); err != nil {
		return s, err
	}
	p := b[8:]
	for i := range s.Cursor {
		s.Cursor[i] = pos{binary.LittleEndian.Uint64(p), int64(binary.LittleEndian.Uint64(p[8:]))}
		if s.Cursor[i].Off < 0 {
			return cursorState{}, errors.New("negative offset")
		}
		p = p[16:]
	}
	s.Corrupt = binary.LittleEndian.Uint64(p)
	return s, nil
}

func encodeWriterState(s writerState) []byte {
	b := make([]byte, 0, writerFileLen)
	b = append(b, writerMagic[:]...)
	b = append(b, stateVersion, 0, 0, 0)
	for _, n := range s.Evicted {
		b = binary.LittleEndian.AppendUint64(b, n)
	}
	b = binary.LittleEndian.AppendUint64(b, s.Torn)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeWriterState(b []byte) (writerState, error) {
	var s writerState
	if err := checkState(b, writerMagic, writerFileLen); err != nil {
		return s, err
	}
	p := b[8:]
	for i := range s.Evicted {
		s.Evicted[i] = binary.LittleEndian.Uint64(p)
		p = p[8:]
	}
	s.Torn = binary.LittleEndian.Uint64(p)
	return s, nil
}

func checkState(b []byte, magic [4]byte, n int) error {
	if len(b) != n {
		return fmt.Errorf("length %d, want %d", len(b), n)
	}
	if [4]byte(b[0:4]) != magic {
		return errors.New("bad magic")
	}
	if b[4] != stateVersion {
		return fmt.Errorf("unsupported version %d", b[4])
	}
	if crc32.Checksum(b[:n-4], castagnoli) != binary.LittleEndian.Uint32(b[n-4:]) {
		return errors.New("checksum mismatch")
	}
	return nil
}

// readState reads dir/name; a missing file gives ok=false.
func readState(dir, name string) (b []byte, ok bool, err error) {
	b, err = os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("spool: read %s: %w", filepath.Join(dir, name), err)
	}
	return b, true, nil
}

func loadCursor(dir string) (cursorState, error) {
	b, ok, err := readState(dir, cursorFile)
	if err != nil || !ok {
		return cursorState{}, err
	}
	s, err := decodeCursor(b)
	if err != nil {
		return s, fmt.Errorf("spool: %s: %w (remove it to re-send everything unacknowledged)", filepath.Join(dir, cursorFile), err)
	}
	return s, nil
}

func loadWriterState(dir string) (writerState, error) {
	b, ok, err := readState(dir, writerFile)
	if err != nil || !ok {
		return writerState{}, err
	}
	s, err := decodeWriterState(b)
	if err != nil {
		return s, fmt.Errorf("spool: %s: %w (remove it to reset the eviction counters)", filepath.Join(dir, writerFile), err)
	}
	return s, nil
}

// writeFileDurable replaces dir/name atomically and durably.
func writeFileDurable(dir, name string, b []byte) error {
	final := filepath.Join(dir, name)
	tmp := final + tempExt
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("spool: write %s: %w", final, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("spool: write %s: %w", final, err)
	}
	return nil
}
