package spool

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"medagent/telemetry"
)

// Segment header layout (little-endian):
//
//	0  magic   "MSPL"
//	4  version u8 (segmentVersion)
//	5  class   u8
//	6  flags   u8 (flagEncrypted)
//	7  reserved, 0
//	8  segment number u64
//	16 created unix nanos i64
//	24 bodyLen u32
//	28 crc     u32, CRC-32C over bytes 0..27 and the body
//	32 body: the seq snapshot, or nonce [12] | AES-256-GCM(snapshot) with
//	   bytes 0..23 as additional data (this is also the key check).
//
// Snapshot: count u32, then count × (len u8 | stream | last seq u64).
const (
	segmentVersion  = 1
	segHeaderFixed  = 32
	flagEncrypted   = 1
	maxSnapshotBody = 4 + MaxStreams*(1+MaxStreamLen+8) + nonceLen + tagLen
	segmentExt      = ".seg"
	tempExt         = ".tmp"
	MaxStreams      = 4096 // per class; see Append
	headerADLen     = 24
)

var segMagic = [4]byte{'M', 'S', 'P', 'L'}

// ErrWrongKey is returned when the spool was written with another key.
var ErrWrongKey = errors.New("spool: wrong encryption key (segment header does not authenticate)")

// segHeader is the decoded header of a segment file.
type segHeader struct {
	Class     telemetry.Class
	Encrypted bool
	Num       uint64
	Created   time.Time
	// DataStart is the offset of the first frame.
	DataStart int64
	// Seqs is the last seq per stream when the segment was created.
	Seqs map[string]uint64
}

func classDirName(c telemetry.Class) string {
	switch c {
	case telemetry.ClassAlarm:
		return "alarm"
	case telemetry.ClassEvent:
		return "event"
	case telemetry.ClassTelemetry:
		return "telemetry"
	}
	return ""
}

func segmentName(num uint64) string { return fmt.Sprintf("%016x%s", num, segmentExt) }

// encodeSegHeader builds the header bytes.
func encodeSegHeader(h segHeader, aead cipher.AEAD) ([]byte, error) {
	b := make([]byte, segHeaderFixed, segHeaderFixed+64)
	copy(b[0:4], segMagic[:])
	b[4] = segmentVersion
	b[5] = byte(h.Class)
	if aead != nil {
		b[6] = flagEncrypted
	}
	binary.LittleEndian.PutUint64(b[8:16], h.Num)
	binary.LittleEndian.PutUint64(b[16:24], uint64(h.Created.UnixNano()))
	snap := make([]byte, 0, 4+len(h.Seqs)*24)
	snap = binary.LittleEndian.AppendUint32(snap, uint32(len(h.Seqs)))
	// Sorted so equal maps give equal bytes.
	for _, s := range slices.Sorted(mapKeys(h.Seqs)) {
		snap = append(snap, byte(len(s)))
		snap = append(snap, s...)
		snap = binary.LittleEndian.AppendUint64(snap, h.Seqs[s])
	}
	if aead != nil {
		var nonce [nonceLen]byte
		if _, err := rand.Read(nonce[:]); err != nil {
			return nil, fmt.Errorf("spool: segment header: nonce: %w", err)
		}
		b = append(b, nonce[:]...)
		b = aead.Seal(b, nonce[:], snap, b[:headerADLen])
	} else {
		b = append(b, snap...)
	}
	binary.LittleEndian.PutUint32(b[24:28], uint32(len(b)-segHeaderFixed))
	crc := crc32.Update(0, castagnoli, b[0:28])
	crc = crc32.Update(crc, castagnoli, b[segHeaderFixed:])
	binary.LittleEndian.PutUint32(b[28:32], crc)
	return b, nil
}

func mapKeys(m map[string]uint64) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// readSegHeader reads and checks the header at the start of r. With
// decrypt false, an encrypted snapshot is not opened (offline stats).
func readSegHeader(r io.ReaderAt, aead cipher.AEAD, decrypt bool) (segHeader, error) {
	var fixed [segHeaderFixed]byte
	if _, err := r.ReadAt(fixed[:], 0); err != nil {
		return segHeader{}, fmt.Errorf("segment header: %w", errCorrupt)
	}
	bodyLen := binary.LittleEndian.Uint32(fixed[24:28])
	if bodyLen > maxSnapshotBody {
		return segHeader{}, fmt.Errorf("segment header: %w: body length %d", errCorrupt, bodyLen)
	}
	b := make([]byte, segHeaderFixed+int(bodyLen))
	copy(b, fixed[:])
	if _, err := r.ReadAt(b[segHeaderFixed:], segHeaderFixed); err != nil {
		return segHeader{}, fmt.Errorf("segment header: %w: short body", errCorrupt)
	}
	return parseSegHeader(b, aead, decrypt)
}

// parseSegHeader decodes a complete header.
func parseSegHeader(b []byte, aead cipher.AEAD, decrypt bool) (segHeader, error) {
	if len(b) < segHeaderFixed || [4]byte(b[0:4]) != segMagic {
		return segHeader{}, fmt.Errorf("segment header: %w: bad magic", errCorrupt)
	}
	if b[4] != segmentVersion {
		return segHeader{}, fmt.Errorf("segment header: unsupported version %d (want %d)", b[4], segmentVersion)
	}
	bodyLen := int(binary.LittleEndian.Uint32(b[24:28]))
	if bodyLen > maxSnapshotBody || len(b) < segHeaderFixed+bodyLen {
		return segHeader{}, fmt.Errorf("segment header: %w: body length %d", errCorrupt, bodyLen)
	}
	b = b[:segHeaderFixed+bodyLen]
	crc := crc32.Update(0, castagnoli, b[0:28])
	crc = crc32.Update(crc, castagnoli, b[segHeaderFixed:])
	if crc != binary.LittleEndian.Uint32(b[28:32]) {
		return segHeader{}, fmt.Errorf("segment header: %w: checksum", errCorrupt)
	}
	h := segHeader{
		Class:     telemetry.Class(b[5]),
		Encrypted: b[6]&flagEncrypted != 0,
		Num:       binary.LittleEndian.Uint64(b[8:16]),
		Created:   time.Unix(0, int64(binary.LittleEndian.Uint64(b[16:24]))),
		DataStart: int64(len(b)),
	}
	if classDirName(h.Class) == "" || b[6]&^flagEncrypted != 0 || b[7] != 0 {
		return segHeader{}, fmt.Errorf("segment header: %w: bad class or flags", errCorrupt)
	}
	if !decrypt {
		return h, nil
	}
	snap := b[segHeaderFixed:]
	switch {
	case h.Encrypted && aead == nil:
		return segHeader{}, errors.New("spool: spool is encrypted but no key was given")
	case !h.Encrypted && aead != nil:
		return segHeader{}, errors.New("spool: spool is not encrypted but a key was given (drain or remove it to switch)")
	case h.Encrypted:
		if len(snap) < nonceLen+tagLen {
			return segHeader{}, fmt.Errorf("segment header: %w: short ciphertext", errCorrupt)
		}
		var err error
		snap, err = aead.Open(nil, snap[:nonceLen], snap[nonceLen:], b[:headerADLen])
		if err != nil {
			return segHeader{}, ErrWrongKey
		}
	}
	seqs, err := parseSnapshot(snap)
	if err != nil {
		return segHeader{}, err
	}
	h.Seqs = seqs
	return h, nil
}

func parseSnapshot(p []byte) (map[string]uint64, error) {
	if len(p) < 4 {
		return nil, fmt.Errorf("segment header: %w: short snapshot", errCorrupt)
	}
	n := binary.LittleEndian.Uint32(p[0:4])
	if n > MaxStreams {
		return nil, fmt.Errorf("segment header: %w: %d streams", errCorrupt, n)
	}
	p = p[4:]
	seqs := make(map[string]uint64, n)
	for range n {
		if len(p) < 1 || p[0] == 0 || len(p) < 1+int(p[0])+8 {
			return nil, fmt.Errorf("segment header: %w: truncated snapshot", errCorrupt)
		}
		l := int(p[0])
		seqs[string(p[1:1+l])] = binary.LittleEndian.Uint64(p[1+l:])
		p = p[1+l+8:]
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("segment header: %w: trailing snapshot bytes", errCorrupt)
	}
	return seqs, nil
}

// listSegments returns the segment numbers in dir, ascending. A missing
// directory is empty.
func listSegments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("spool: list %s: %w", dir, err)
	}
	var nums []uint64
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, segmentExt) {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(name, segmentExt), 16, 64)
		if err != nil || n == 0 {
			continue
		}
		nums = append(nums, n)
	}
	slices.Sort(nums)
	return nums, nil
}

// createSegment writes a new segment durably (temp, fsync, rename, fsync
// dir) and returns it open for appending.
func createSegment(dir string, h segHeader, aead cipher.AEAD) (*os.File, int64, error) {
	b, err := encodeSegHeader(h, aead)
	if err != nil {
		return nil, 0, err
	}
	final := filepath.Join(dir, segmentName(h.Num))
	tmp := final + tempExt
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return nil, 0, fmt.Errorf("spool: create segment in %s: %w", dir, err)
	}
	fail := func(err error) (*os.File, int64, error) {
		f.Close()
		os.Remove(tmp)
		return nil, 0, fmt.Errorf("spool: create segment in %s: %w", dir, err)
	}
	if _, err := f.Write(b); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fail(err)
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("spool: create segment in %s: %w", dir, err)
	}
	return f, int64(len(b)), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
