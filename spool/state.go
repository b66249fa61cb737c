package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"

	"medagent/telemetry"
)

// State files are small, versioned and checksummed, and rewritten in
// place in one of two preallocated slots (see slotfile.go): a crash
// leaves the old or the new state, never a mix, and a full file system
// cannot stop a write.
const (
	cursorFile = "reader.cursor"
	writerFile = "writer.state"
	// Slot sizes: the cursor is fixed; the writer state holds up to
	// maxLosses loss records of at most lossMaxLen bytes.
	cursorSlot = 128
	writerSlot = 24 << 10
	// Version 1 files (whole-file rename), still read.
	legacyVersion       = 1
	legacyCursorFileLen = 4 + 1 + 3 + 3*16 + 8 + 4
	legacyWriterFileLen = 4 + 1 + 3 + 3*8 + 8 + 4
	// stateVersion is the version of the watermark file.
	stateVersion = 1
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

// writerState is what the writer persists: evicted and refused records
// per class, torn tails it truncated, and the losses not yet reported
// (or whose skipped seq must survive a restart).
type writerState struct {
	Evicted [3]uint64
	Refused [3]uint64
	Torn    uint64
	Losses  []loss
	nextID  uint64 // in memory: ids of Losses
}

func encodeCursor(s cursorState) []byte {
	b := make([]byte, 0, 3*16+8)
	for _, p := range s.Cursor {
		b = binary.LittleEndian.AppendUint64(b, p.Seg)
		b = binary.LittleEndian.AppendUint64(b, uint64(p.Off))
	}
	return binary.LittleEndian.AppendUint64(b, s.Corrupt)
}

func decodeCursor(b []byte) (cursorState, error) {
	var s cursorState
	if len(b) != 3*16+8 {
		return s, fmt.Errorf("cursor of %d bytes, want %d", len(b), 3*16+8)
	}
	for i := range s.Cursor {
		s.Cursor[i] = pos{binary.LittleEndian.Uint64(b), int64(binary.LittleEndian.Uint64(b[8:]))}
		if s.Cursor[i].Off < 0 {
			return cursorState{}, errors.New("negative offset")
		}
		b = b[16:]
	}
	s.Corrupt = binary.LittleEndian.Uint64(b)
	return s, nil
}

// legacyCursor reads a version 1 cursor file: magic, version, 3 pad,
// the current body, CRC-32C.
func legacyCursor(b []byte) ([]byte, bool) {
	if checkLegacy(b, cursorMagic, legacyCursorFileLen) != nil {
		return nil, false
	}
	return b[8 : legacyCursorFileLen-4], true
}

func encodeWriterState(s writerState) []byte {
	b := make([]byte, 0, 7*8+2+len(s.Losses)*64)
	for _, n := range s.Evicted {
		b = binary.LittleEndian.AppendUint64(b, n)
	}
	for _, n := range s.Refused {
		b = binary.LittleEndian.AppendUint64(b, n)
	}
	b = binary.LittleEndian.AppendUint64(b, s.Torn)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(s.Losses)))
	for _, l := range s.Losses {
		b = l.appendTo(b)
	}
	return b
}

func decodeWriterState(b []byte) (writerState, error) {
	var s writerState
	if len(b) < 7*8+2 {
		return s, fmt.Errorf("state of %d bytes is too short", len(b))
	}
	for i := range s.Evicted {
		s.Evicted[i] = binary.LittleEndian.Uint64(b)
		b = b[8:]
	}
	for i := range s.Refused {
		s.Refused[i] = binary.LittleEndian.Uint64(b)
		b = b[8:]
	}
	s.Torn = binary.LittleEndian.Uint64(b)
	n := int(binary.LittleEndian.Uint16(b[8:]))
	b = b[10:]
	if n > 2*maxLosses {
		return writerState{}, fmt.Errorf("%d loss records, at most %d", n, 2*maxLosses)
	}
	for range n {
		l, rest, err := decodeLoss(b)
		if err != nil {
			return writerState{}, err
		}
		s.nextID++
		l.id = s.nextID
		s.Losses = append(s.Losses, l)
		b = rest
	}
	if len(b) != 0 {
		return writerState{}, fmt.Errorf("%d trailing bytes", len(b))
	}
	return s, nil
}

// legacyWriterState reads a version 1 writer.state: evicted counts and
// torn tails.
func legacyWriterState(b []byte) ([]byte, bool) {
	if checkLegacy(b, writerMagic, legacyWriterFileLen) != nil {
		return nil, false
	}
	var s writerState
	p := b[8:]
	for i := range s.Evicted {
		s.Evicted[i] = binary.LittleEndian.Uint64(p)
		p = p[8:]
	}
	s.Torn = binary.LittleEndian.Uint64(p)
	return encodeWriterState(s), true
}

func checkLegacy(b []byte, magic [4]byte, n int) error {
	if len(b) < n {
		return fmt.Errorf("length %d, want %d", len(b), n)
	}
	b = b[:n]
	if [4]byte(b[0:4]) != magic {
		return errors.New("bad magic")
	}
	if b[4] != legacyVersion {
		return fmt.Errorf("unsupported version %d", b[4])
	}
	if crc32.Checksum(b[:n-4], castagnoli) != binary.LittleEndian.Uint32(b[n-4:]) {
		return errors.New("checksum mismatch")
	}
	return nil
}

// checkState checks a whole-file record (the watermark).
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

func loadCursor(dir string) (cursorState, error) {
	b, ok, err := readSlotFile(dir, cursorFile, cursorMagic, cursorSlot, legacyCursor)
	if err != nil || !ok {
		return cursorState{}, cursorErr(dir, err)
	}
	s, err := decodeCursor(b)
	return s, cursorErr(dir, err)
}

func cursorErr(dir string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("spool: %s: %w (remove it to re-send everything unacknowledged)", filepath.Join(dir, cursorFile), err)
}

func loadWriterState(dir string) (writerState, error) {
	b, ok, err := readSlotFile(dir, writerFile, writerMagic, writerSlot, legacyWriterState)
	if err != nil || !ok {
		return writerState{}, writerStateErr(dir, err)
	}
	s, err := decodeWriterState(b)
	return s, writerStateErr(dir, err)
}

func writerStateErr(dir string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("spool: %s: %w (remove it to reset the eviction counters)", filepath.Join(dir, writerFile), err)
}
