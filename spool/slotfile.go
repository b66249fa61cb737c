package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// The state files (reader.cursor, writer.state) are rewritten in place,
// never replaced: a full file system must not stop the reader from
// recording its acknowledgements (that would re-send the whole backlog on
// every reconnect) nor the writer from recording evictions. A temp file
// and a rename need a fresh inode and block, which a full disk refuses.
//
// A slot file is two fixed-size slots, preallocated when the file is
// opened. Each write goes to the older slot (by generation) and is
// fdatasynced, so a crash at any instant leaves the previous state intact
// in the other slot. Slot layout (little-endian):
//
//	0  magic   [4]byte (per file)
//	4  version u8 (slotVersion)
//	5  reserved [3]byte, 0
//	8  gen     u64, +1 per write; the valid slot with the higher one wins
//	16 bodyLen u32
//	20 crc     u32, CRC-32C over bytes 0..19 and the body
//	24 body
const (
	slotVersion   = 2
	slotHeaderLen = 24
)

// slotFile is an open slot file.
type slotFile struct {
	f     *os.File
	magic [4]byte
	slot  int64  // bytes per slot
	gen   uint64 // generation of the newest valid slot
}

// legacyDecoder converts a version 1 state file (written whole with a
// rename) into a current body; ok is false if b is not one.
type legacyDecoder func(b []byte) (body []byte, ok bool)

// readSlots returns the body of the newest valid slot in b (the whole
// file), its generation, and whether there was one.
func readSlots(b []byte, magic [4]byte, slot int64, legacy legacyDecoder) (body []byte, gen uint64, ok bool) {
	for i := int64(0); i < 2; i++ {
		if int64(len(b)) < i*slot+slotHeaderLen {
			break
		}
		s := b[i*slot : min(int64(len(b)), (i+1)*slot)]
		if [4]byte(s[0:4]) != magic || s[4] != slotVersion {
			continue
		}
		n := int64(binary.LittleEndian.Uint32(s[16:20]))
		if n > slot-slotHeaderLen || int64(len(s)) < slotHeaderLen+n {
			continue
		}
		crc := crc32.Update(0, castagnoli, s[0:20])
		crc = crc32.Update(crc, castagnoli, s[slotHeaderLen:slotHeaderLen+n])
		if crc != binary.LittleEndian.Uint32(s[20:24]) {
			continue
		}
		if g := binary.LittleEndian.Uint64(s[8:16]); !ok || g > gen {
			body, gen, ok = s[slotHeaderLen:slotHeaderLen+n], g, true
		}
	}
	if !ok && legacy != nil {
		if body, ok := legacy(b); ok {
			return body, 0, true
		}
	}
	return body, gen, ok
}

// readSlotFile reads dir/name without opening it for writing (the other
// side's view, stats). A missing file gives ok=false; a file with no
// valid slot is an error.
func readSlotFile(dir, name string, magic [4]byte, slot int64, legacy legacyDecoder) (body []byte, ok bool, err error) {
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if allZero(b) {
		return nil, false, nil // created (preallocated), never written
	}
	body, _, ok = readSlots(b, magic, slot, legacy)
	if !ok {
		return nil, false, errors.New("no valid copy (both slots damaged)")
	}
	return body, true, nil
}

// openSlotFile opens (creating) dir/name for in-place writes and returns
// the newest valid body (nil for a new file). The file is preallocated
// to its full size first, so later writes need no new space.
func openSlotFile(dir, name string, magic [4]byte, slot int64, legacy legacyDecoder) (*slotFile, []byte, error) {
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, nil, fmt.Errorf("spool: open %s: %w", p, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("spool: %w", err)
	}
	if fi.Size() > 2*slot {
		f.Close()
		return nil, nil, fmt.Errorf("spool: %s is %d bytes, more than a state file can be (%d): not a spool state file", p, fi.Size(), 2*slot)
	}
	b := make([]byte, fi.Size())
	if _, err := f.ReadAt(b, 0); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("spool: read %s: %w", p, err)
	}
	sf := &slotFile{f: f, magic: magic, slot: slot}
	body, gen, ok := readSlots(b, magic, slot, legacy)
	if !ok && len(b) > 0 && !allZero(b) {
		f.Close()
		return nil, nil, fmt.Errorf("spool: %s: no valid copy (both slots damaged)", p)
	}
	sf.gen = gen
	if fi.Size() < 2*slot {
		if err := preallocate(f, fi.Size(), 2*slot-fi.Size()); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("spool: preallocate %s: %w", p, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("spool: sync %s: %w", p, err)
		}
	}
	if body != nil {
		body = append([]byte(nil), body...)
	}
	return sf, body, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// write stores body durably in the older slot.
func (s *slotFile) write(body []byte) error {
	if int64(len(body)) > s.slot-slotHeaderLen {
		return fmt.Errorf("spool: %s: state of %d bytes exceeds the %d-byte slot", s.f.Name(), len(body), s.slot-slotHeaderLen)
	}
	gen := s.gen + 1
	b := make([]byte, slotHeaderLen, slotHeaderLen+len(body))
	copy(b[0:4], s.magic[:])
	b[4] = slotVersion
	binary.LittleEndian.PutUint64(b[8:16], gen)
	binary.LittleEndian.PutUint32(b[16:20], uint32(len(body)))
	b = append(b, body...)
	crc := crc32.Update(0, castagnoli, b[0:20])
	crc = crc32.Update(crc, castagnoli, body)
	binary.LittleEndian.PutUint32(b[20:24], crc)
	if _, err := s.f.WriteAt(b, int64(gen%2)*s.slot); err != nil {
		return fmt.Errorf("spool: write %s: %w", s.f.Name(), err)
	}
	if err := fdatasync(s.f); err != nil {
		return fmt.Errorf("spool: fsync %s: %w", s.f.Name(), err)
	}
	s.gen = gen
	return nil
}

func (s *slotFile) close() error { return s.f.Close() }

// preallocate makes sure the bytes [off, off+n) of f are allocated on
// disk, extending the file. File systems without fallocate get zeros
// written instead.
func preallocate(f *os.File, off, n int64) error {
	err := unix.Fallocate(int(f.Fd()), 0, off, n)
	if !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.ENOSYS) {
		return err
	}
	zero := make([]byte, min(n, 64<<10))
	for done := int64(0); done < n; {
		k := min(int64(len(zero)), n-done)
		if _, err := f.WriteAt(zero[:k], off+done); err != nil {
			return err
		}
		done += k
	}
	return nil
}
