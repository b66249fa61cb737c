package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
)

// The durable watermark tells the Reader how far each class log is known
// to be fsynced, so it never delivers a record that a power cut could
// still take back (its seq would then be given to another record).
//
// Dir/writer.synced is overwritten in place (one 60-byte pwrite, no fsync:
// it only ever points at data already synced) after every group commit
// and segment roll. Layout: magic "MSWM", version, flags (watermarkClean:
// the writer closed cleanly, everything on disk is synced), 3 × (segment
// u64, offset u64) in class order telemetry, event, alarm, CRC-32C.
const (
	watermarkFile  = "writer.synced"
	watermarkLen   = 4 + 1 + 3 + 3*16 + 4
	watermarkClean = 1
)

var watermarkMagic = [4]byte{'M', 'S', 'W', 'M'}

type watermark struct {
	Clean  bool
	Synced [3]pos // indexed by classIndex
}

func encodeWatermark(m watermark) []byte {
	b := make([]byte, 0, watermarkLen)
	b = append(b, watermarkMagic[:]...)
	var flags byte
	if m.Clean {
		flags = watermarkClean
	}
	b = append(b, stateVersion, flags, 0, 0)
	for _, p := range m.Synced {
		b = binary.LittleEndian.AppendUint64(b, p.Seg)
		b = binary.LittleEndian.AppendUint64(b, uint64(p.Off))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeWatermark(b []byte) (watermark, error) {
	var m watermark
	if err := checkState(b, watermarkMagic, watermarkLen); err != nil {
		return m, err
	}
	m.Clean = b[5]&watermarkClean != 0
	p := b[8:]
	for i := range m.Synced {
		m.Synced[i] = pos{binary.LittleEndian.Uint64(p), int64(binary.LittleEndian.Uint64(p[8:]))}
		p = p[16:]
	}
	return m, nil
}

// openWatermark opens (creating) the writer's watermark file.
func openWatermark(dir string) (*os.File, error) {
	p := filepath.Join(dir, watermarkFile)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return f, nil
}

// readLimit is the reader's view of the watermark: how far it may read
// in segment seg (open as f) of class index i. ok is false when nothing
// may be read (the writer has not synced that segment yet, or the file
// is being rewritten).
func readLimit(dir string, f *os.File, i int, seg uint64) (limit int64, ok bool) {
	// Size first, watermark second: a writer that opened after a clean
	// close marks the watermark unclean before it appends, so a clean
	// watermark read now covers every byte of that size.
	fi, err := f.Stat()
	if err != nil {
		return 0, false
	}
	b, err := os.ReadFile(filepath.Join(dir, watermarkFile))
	if errors.Is(err, os.ErrNotExist) {
		return fi.Size(), true // no writer has run with a watermark
	}
	if err != nil {
		return 0, false
	}
	m, err := decodeWatermark(b)
	switch {
	case err != nil:
		return 0, false // a concurrent rewrite: try again on the next poll
	case seg < m.Synced[i].Seg:
		return 1 << 62, true // sealed, and synced before the next one began
	case m.Clean:
		return fi.Size(), true
	case seg == m.Synced[i].Seg:
		return m.Synced[i].Off, true
	}
	return 0, false
}
