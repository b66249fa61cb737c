package audit

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"medagent/internal/authfile"
)

// powerCut abandons l as a power cut would: no Close, so nothing pending
// in memory is written.
func powerCut(l *Log) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.f.Close()
	l.f = nil
}

func floodKind(t *testing.T, l *Log, kind string, n int, tick func()) (dropped int) {
	t.Helper()
	for i := range n {
		err := l.Record(kind, map[string]string{"uid": "1000", "i": strconv.Itoa(i)})
		switch {
		case errors.Is(err, ErrDropped):
			dropped++
		case err != nil:
			t.Fatal(err)
		}
		if tick != nil {
			tick()
		}
	}
	return dropped
}

// pendingOnDisk reads audit.drops (0 when it is missing).
func pendingOnDisk(t *testing.T, dir, kind string) uint64 {
	t.Helper()
	b, err := authfile.Read(filepath.Join(dir, dropsName), maxDropsFile)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	var d dropsFile
	if err == nil {
		err = authfile.Unmarshal(testKey, dropsFormat, 1, b, &d)
	}
	if err != nil {
		t.Fatal(err)
	}
	return d.Kinds[kind].Count
}

func droppedEntries(t *testing.T, dir string) []Entry {
	t.Helper()
	r := Verify(dir, testKey)
	if !r.OK() {
		t.Fatalf("trail: %s", problems(r))
	}
	var out []Entry
	for _, e := range r.Entries {
		if e.Kind == KindDropped {
			out = append(out, e)
		}
	}
	return out
}

// TestDropCountSurvivesPowerCut: a flood of 10,000 refused attempts in one
// instant, then silence, then a power cut (no Close). The count reached
// audit.drops within DropSync of the last drop; the next Open records it
// as an audit.dropped entry marked recovered, and the chain verifies.
func TestDropCountSurvivesPowerCut(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	o := Options{Dir: dir, Key: testKey, Burst: 20, Every: 10 * time.Second, DropSync: 50 * time.Millisecond,
		Now: func() time.Time { return now }}
	l, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	if d := floodKind(t, l, "technician.refused", 10000, nil); d != 9980 {
		t.Fatalf("%d dropped, want 9980", d)
	}
	// The timer writes the count within DropSync (a bounded wait: the
	// machine may be loaded).
	for deadline := time.Now().Add(30 * time.Second); pendingOnDisk(t, dir, "technician.refused") != 9980; {
		if time.Now().After(deadline) {
			t.Fatalf("audit.drops holds %d after 30 s, want 9980", pendingOnDisk(t, dir, "technician.refused"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	kept, err := os.ReadFile(filepath.Join(dir, dropsName))
	if err != nil {
		t.Fatal(err)
	}
	powerCut(l)

	l, err = Open(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, dropsName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("audit.drops still there after its counts were recorded: %v", err)
	}
	// A power cut after the entry, before audit.drops went: the next
	// Open must not count the episode twice.
	if err := os.WriteFile(filepath.Join(dir, dropsName), kept, 0o600); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l, err = Open(o)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	got := droppedEntries(t, dir)
	if len(got) != 1 || got[0].Fields["count"] != "9980" || got[0].Fields["kind"] != "technician.refused" || got[0].Fields["recovered"] == "" {
		t.Fatalf("audit.dropped entries %+v, want one recovered entry counting 9980", got)
	}
}

// TestDropCountWritesBounded: a flood of 100,000 entries over 100 s (of the
// log's clock) writes audit.drops about once per DropSync, not once per
// drop; Close records the exact count and removes the file.
func TestDropCountWritesBounded(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	l, err := Open(Options{Dir: dir, Key: testKey, Burst: 20, Every: 10 * time.Second, DropSync: time.Second,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	dropped := floodKind(t, l, "command.refused", 100000, func() { now = now.Add(time.Millisecond) })
	l.mu.Lock()
	writes := l.dropWrites
	l.mu.Unlock()
	// 100 s at one sync a second, plus one per audit.dropped entry (the
	// kind comes back every 20 s: two tokens) and the first drop.
	if writes < 1 || writes > 100+100/20+2 {
		t.Errorf("audit.drops written %d times for %d drops over 100 s, want at most %d", writes, dropped, 100+100/20+2)
	}
	l.Close()
	if _, err := os.Stat(filepath.Join(dir, dropsName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("audit.drops left after Close: %v", err)
	}
	var sum int
	for _, e := range droppedEntries(t, dir) {
		n, _ := strconv.Atoi(e.Fields["count"])
		sum += n
		if e.Fields["recovered"] != "" {
			t.Errorf("entry marked recovered without a power cut: %v", e.Fields)
		}
	}
	if sum != dropped {
		t.Errorf("audit.dropped entries count %d, %d were dropped", sum, dropped)
	}
	t.Logf("%d drops over 100 s: %d writes of audit.drops", dropped, writes)
}

// TestForgedDropCounts: an audit.drops not written with the trail's key is
// not turned into entries; it is reported and kept aside.
func TestForgedDropCounts(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, nil)
	l.Close()
	if err := os.WriteFile(filepath.Join(dir, dropsName), []byte(`{"kinds":{"x":{"count":5}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	l = openT(t, dir, nil)
	l.Close()
	r := Verify(dir, testKey)
	var failed bool
	for _, e := range r.Entries {
		if e.Kind == KindDropped {
			t.Errorf("forged counts recorded: %v", e.Fields)
		}
		failed = failed || e.Kind == "audit.check_failed"
	}
	if !failed {
		t.Error("forged audit.drops not reported")
	}
	if _, err := os.Stat(filepath.Join(dir, dropsName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("forged audit.drops not kept aside: %v", err)
	}
}
