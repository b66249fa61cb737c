package spool

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"medagent/telemetry"
)

var stateCases = []writerState{
	{},
	{Evicted: [3]uint64{5, 1, 0}, Refused: [3]uint64{2, 0, 1}, Torn: 3},
	{Evicted: [3]uint64{9}, Losses: []loss{
		{Kind: lossEvicted, Reason: reasonMaxBytes, Class: telemetry.ClassTelemetry, Stream: "ecg", First: 1, Last: 9, Count: 9, From: time.Unix(1700000000, 5), To: time.Unix(1700000009, 0)},
		{Kind: lossRefused, Reason: reasonDiskFull, Class: telemetry.ClassAlarm, Reported: true, Stream: "hr", First: 4, Last: 4, Count: 1, From: time.Unix(1700000010, 0), To: time.Unix(1700000010, 0)},
		{Kind: lossEvicted, Reason: reasonDiskFull, Class: telemetry.ClassEvent, Count: 3},
	}},
}

// legacyFile builds a version 1 state file: magic, version 1, 3 zero
// bytes, body, CRC-32C of all that.
func legacyFile(magic [4]byte, body []byte) []byte {
	b := append(append(magic[:], legacyVersion, 0, 0, 0), body...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// TestLegacyStateFiles: a spool written by the version that replaced its
// state files whole opens with its counters and cursor, and is then
// rewritten in place.
func TestLegacyStateFiles(t *testing.T) {
	o := testOpts(t, false)
	w := mustWriter(t, o)
	for range 3 {
		mustAppend(t, w, cT, "ecg", 10)
	}
	w.Close()
	r := mustReader(t, o)
	recs := drain(t, r, 20*time.Millisecond)
	r.Ack(recs[0].ID)
	r.Close()
	cur, err := loadCursor(o.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var wbody []byte
	for _, n := range []uint64{7, 0, 2, 1} { // evicted telemetry, event, alarm; torn
		wbody = binary.LittleEndian.AppendUint64(wbody, n)
	}
	for name, b := range map[string][]byte{
		cursorFile: legacyFile(cursorMagic, encodeCursor(cur)),
		writerFile: legacyFile(writerMagic, wbody),
	} {
		if err := os.WriteFile(filepath.Join(o.Dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	w = mustWriter(t, o)
	defer w.Close()
	s := w.Stats()
	if s.Classes[cT].Evicted != 7 || s.Classes[cA].Evicted != 2 || s.TornTails != 1 {
		t.Fatalf("legacy writer.state: %+v torn %d", s.Classes, s.TornTails)
	}
	r = mustReader(t, o)
	defer r.Close()
	if got := seqsByStream(drain(t, r, 20*time.Millisecond)); !cmp.Equal(got, map[streamKey][]uint64{{cT, "ecg"}: {2, 3}}) {
		t.Fatalf("after a legacy cursor: %v, want ecg 2, 3", got)
	}
	for _, name := range []string{cursorFile, writerFile} {
		if fi, err := os.Stat(filepath.Join(o.Dir, name)); err != nil || allocated(fi) < fi.Size() {
			t.Fatalf("%s not preallocated: %v", name, err)
		}
	}
}

// TestSlotFileTornWrite: a write torn anywhere in the newest slot leaves
// the previous state readable.
func TestSlotFileTornWrite(t *testing.T) {
	dir := t.TempDir()
	sf, body, err := openSlotFile(dir, writerFile, writerMagic, writerSlot, legacyWriterState)
	if err != nil || body != nil {
		t.Fatalf("new file: %v, body %x", err, body)
	}
	older, newer := encodeWriterState(stateCases[1]), encodeWriterState(stateCases[2])
	if err := sf.write(older); err != nil {
		t.Fatal(err)
	}
	if err := sf.write(newer); err != nil {
		t.Fatal(err)
	}
	sf.close()
	p := filepath.Join(dir, writerFile)
	good, _ := os.ReadFile(p)
	newest := int64(sf.gen%2) * writerSlot
	for _, cut := range []int64{0, 5, slotHeaderLen - 1, slotHeaderLen + 3, slotHeaderLen + int64(len(newer)) - 1} {
		b := bytes.Clone(good)
		b[newest+cut] ^= 0x40
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		got, ok, err := readSlotFile(dir, writerFile, writerMagic, writerSlot, legacyWriterState)
		if err != nil || !ok || !bytes.Equal(got, older) {
			t.Fatalf("byte %d of the newest slot damaged: ok %t err %v, got the older state %t", cut, ok, err, bytes.Equal(got, older))
		}
	}
	// Both damaged: a clear error, never a silent reset.
	b := bytes.Clone(good)
	b[newest] ^= 1
	b[int64((sf.gen+1)%2)*writerSlot+8] ^= 1
	os.WriteFile(p, b, 0o600)
	if _, err := loadWriterState(dir); err == nil {
		t.Fatal("both slots damaged: no error")
	}
}

func TestWriterStateRoundTrip(t *testing.T) {
	for i, s := range stateCases {
		got, err := decodeWriterState(encodeWriterState(s))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(s, got, cmp.AllowUnexported(loss{}), cmp.FilterPath(func(p cmp.Path) bool {
			n := p.Last().String()
			return n == ".id" || n == ".sent" || n == ".nextID"
		}, cmp.Ignore())); diff != "" {
			t.Errorf("case %d (-want +got):\n%s", i, diff)
		}
	}
}

// TestLossTableBounded: more streams losing at once than the table holds
// merge per class and kind; no count is lost.
func TestLossTableBounded(t *testing.T) {
	var s writerState
	var total uint64
	for i := range 3 * maxLosses {
		s.addLoss(loss{Kind: lossEvicted, Reason: reasonDiskFull, Class: telemetry.ClassTelemetry, Stream: string(rune('a'+i%26)) + string(rune('a'+i/26)), First: 1, Last: 2, Count: 2})
		total += 2
	}
	if len(s.Losses) > maxLosses {
		t.Fatalf("%d entries, bound %d", len(s.Losses), maxLosses)
	}
	var n uint64
	for _, l := range s.Losses {
		n += l.Count
	}
	if n != total {
		t.Fatalf("counts %d, want %d", n, total)
	}
	if len(encodeWriterState(s)) > writerSlot-slotHeaderLen {
		t.Fatal("state exceeds its slot")
	}
}

func FuzzWriterState(f *testing.F) {
	for _, s := range stateCases {
		f.Add(encodeWriterState(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeWriterState(b)
		if err != nil {
			return
		}
		// What decodes is canonical: it encodes to the same bytes.
		if got := encodeWriterState(s); !bytes.Equal(got, b) {
			t.Fatalf("re-encoded %x, read %x", got, b)
		}
		readSlots(b, writerMagic, writerSlot, legacyWriterState)
		readSlots(b, cursorMagic, cursorSlot, legacyCursor)
	})
}
