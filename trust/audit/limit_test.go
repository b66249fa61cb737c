package audit

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestFloodBounded: a hostile client makes 10,000 refused attempts at one
// instant. The trail and what it publishes (into the spool) take the burst
// and one audit.dropping entry, not 10,000; an entry of another kind (an
// install) still goes in during the flood; the count of what was dropped
// is recorded as soon as the kind is below its bound again, and at Close;
// the chain verifies.
func TestFloodBounded(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	published := map[string]int{}
	l, err := Open(Options{Dir: dir, Key: testKey, Burst: 20, Every: 10 * time.Second,
		Now:     func() time.Time { return now },
		Publish: func(e Entry) { published[e.Kind]++ }})
	if err != nil {
		t.Fatal(err)
	}
	flood := func(n int) (dropped int) {
		for i := range n {
			err := l.Record("technician.refused", map[string]string{"uid": "1000", "reason": "not in group medtech", "i": strconv.Itoa(i)})
			if errors.Is(err, ErrDropped) {
				dropped++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		return dropped
	}
	if d := flood(10000); d != 10000-20 {
		t.Errorf("%d of 10000 dropped, want %d", d, 10000-20)
	}
	if err := l.Record("update.started", map[string]string{"artifact": "release-2"}); err != nil {
		t.Errorf("an install during the flood was not recorded: %v", err)
	}
	if published["technician.refused"] != 20 || published[KindDropping] != 1 || published["update.started"] != 1 {
		t.Errorf("published %v, want the burst of 20, one %s and the install", published, KindDropping)
	}
	if fi, _ := os.Stat(filepath.Join(dir, logName)); fi.Size() > 32<<10 {
		t.Errorf("audit.log is %d bytes after the flood", fi.Size())
	}
	now = now.Add(20 * time.Second) // two tokens back
	if d := flood(1); d != 0 {
		t.Error("the kind is still dropped after the bound allows it again")
	}
	now = now.Add(time.Minute)
	if d := flood(100); d != 100-6 {
		t.Errorf("second flood: %d of 100 dropped, want 94", d)
	}
	l.Close()
	r := Verify(dir, testKey)
	if !r.OK() {
		t.Fatalf("trail: %s", problems(r))
	}
	var counts []string
	for _, e := range r.Entries {
		if e.Kind == KindDropped {
			if e.Fields["kind"] != "technician.refused" {
				t.Errorf("dropped entry %v", e.Fields)
			}
			counts = append(counts, e.Fields["count"])
		}
	}
	if len(counts) != 2 || counts[0] != "9980" || counts[1] != "94" {
		t.Errorf("audit.dropped counts %q, want 9980 (when the kind came back) and 94 (at Close)", counts)
	}
}
