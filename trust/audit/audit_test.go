package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var testKey = bytes.Repeat([]byte{5}, 32)

func openT(t *testing.T, dir string, mod func(*Options)) *Log {
	t.Helper()
	o := Options{Dir: dir, Key: testKey, Burst: 1000} // these tests write many entries of a kind at once
	if mod != nil {
		mod(&o)
	}
	l, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func record(t *testing.T, l *Log, n int) {
	t.Helper()
	for i := range n {
		if err := l.Record("update.refused", map[string]string{"artifact": "rel-" + strconv.Itoa(i), "reason": "signature"}); err != nil {
			t.Fatal(err)
		}
	}
}

func problems(r Report) string {
	var s []string
	for _, p := range r.Problems {
		s = append(s, p.String())
	}
	return strings.Join(s, "; ")
}

func TestAppendVerifyAndEscape(t *testing.T) {
	dir := t.TempDir()
	var published []Entry
	l := openT(t, dir, func(o *Options) { o.Publish = func(e Entry) { published = append(published, e) } })
	record(t, l, 3)
	evil := "rel\x1b[2J\nFAKE LINE\r\x00\u202e"
	if err := l.Record("command.refused", map[string]string{"name": evil}); err != nil {
		t.Fatal(err)
	}
	r := Verify(dir, testKey)
	if !r.OK() || len(r.Entries) != 4 || r.First != 1 || r.Last != 4 {
		t.Fatalf("report %+v: %s", r, problems(r))
	}
	if r.Entries[3].Fields["name"] != evil || len(published) != 4 {
		t.Errorf("entry %q, %d published", r.Entries[3].Fields["name"], len(published))
	}
	b, _ := os.ReadFile(filepath.Join(dir, logName))
	for _, c := range b {
		if c < 0x20 && c != '\n' || c == 0x7f {
			t.Fatalf("raw control character %#x in the log file", c)
		}
	}
	if got := Sanitize(evil); strings.ContainsAny(got, "\x1b\n\r\x00\u202e") {
		t.Errorf("Sanitize left control characters: %q", got)
	}
	if Sanitize("plain text ü") != "plain text ü" {
		t.Error("Sanitize changed plain text")
	}
}

// TestTamperingDetected: editing, deleting (middle, end, a rotated file)
// and replacing entries are each found, at the right place.
func TestTamperingDetected(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(dir string, lines []string) []string
		want string
	}{
		{"edit a field", func(_ string, l []string) []string {
			l[2] = strings.Replace(l[2], "rel-2", "rel-9", 1)
			return l
		}, "line 3 (seq 3): edited"},
		{"delete a middle entry", func(_ string, l []string) []string { return append(l[:2], l[3:]...) }, "entries 3..3 deleted"},
		{"delete the last two", func(_ string, l []string) []string { return l[:len(l)-2] }, "entries 5..6 deleted at the end"},
		{"swap two entries", func(_ string, l []string) []string {
			l[1], l[2] = l[2], l[1]
			return l
		}, "seq jumps"},
		{"remove the head", func(dir string, l []string) []string {
			os.Remove(filepath.Join(dir, headName))
			return l
		}, "head missing"},
		{"forge the last entry (recomputed chain, no key)", func(_ string, l []string) []string {
			l[5] = strings.Replace(l[5], `"kind":"update.refused"`, `"kind":"update.committed"`, 1)
			return l
		}, "line 6 (seq 6): edited"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openT(t, dir, nil)
			record(t, l, 6)
			l.Close()
			p := filepath.Join(dir, logName)
			b, _ := os.ReadFile(p)
			lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			lines = tc.do(dir, lines)
			os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
			r := Verify(dir, testKey)
			if r.OK() || !strings.Contains(problems(r), tc.want) {
				t.Fatalf("problems %q, want one naming %q", problems(r), tc.want)
			}
			// Opening it again records the failed check as an entry.
			l2 := openT(t, dir, nil)
			l2.Close()
			r2 := Verify(dir, testKey)
			if e := r2.Entries[len(r2.Entries)-1]; e.Kind != "audit.check_failed" {
				t.Errorf("last entry after reopening: %s", e.Kind)
			}
		})
	}
}

// TestRotation: the chain continues across rotated files, old files go
// beyond Keep, and removing a kept rotated file is found.
func TestRotation(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, func(o *Options) { o.MaxBytes, o.Keep = 2048, 3 })
	record(t, l, 60)
	l.Close()
	files := logFiles(dir)
	if len(files) != 4 {
		t.Fatalf("files %v, want audit.log and 3 rotated", files)
	}
	r := Verify(dir, testKey)
	if !r.OK() || r.Last != 60 || r.First <= 1 {
		t.Fatalf("after rotation: first %d last %d: %s", r.First, r.Last, problems(r))
	}
	// An intact trail reopens and goes on.
	l = openT(t, dir, func(o *Options) { o.MaxBytes, o.Keep = 2048, 3 })
	record(t, l, 1)
	l.Close()
	if r := Verify(dir, testKey); !r.OK() || r.Last != 61 {
		t.Fatalf("after reopening: %s", problems(r))
	}
	os.Remove(filepath.Join(dir, files[0])) // the oldest kept file
	if r := Verify(dir, testKey); !strings.Contains(problems(r), "deleted at the start") {
		t.Fatalf("removed rotated file: %q", problems(r))
	}
}

// TestPowerCut: a torn last entry is cut and the cut recorded; a head one
// entry behind (power cut between the entry and the head) is brought
// forward; the trail verifies afterwards.
func TestPowerCut(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, nil)
	record(t, l, 3)
	oldHead, _ := os.ReadFile(filepath.Join(dir, headName))
	record(t, l, 1)
	l.Close()
	// Cut between the entry and its head.
	os.WriteFile(filepath.Join(dir, headName), oldHead, 0o600)
	// And a torn write of the next entry.
	f, _ := os.OpenFile(filepath.Join(dir, logName), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"seq":5,"time":"2026-12-03T00:00:00Z","kind":"upd`)
	f.Close()
	l = openT(t, dir, nil)
	l.Close()
	r := Verify(dir, testKey)
	if !r.OK() {
		t.Fatalf("after recovery: %s", problems(r))
	}
	if last := r.Entries[len(r.Entries)-1]; last.Kind != "audit.recovered" || last.Seq != 5 {
		t.Errorf("last entry %+v, want audit.recovered at seq 5", last)
	}
}

func FuzzVerify(f *testing.F) {
	dir := f.TempDir()
	l, err := Open(Options{Dir: dir, Key: testKey})
	if err != nil {
		f.Fatal(err)
	}
	l.Record("update.started", map[string]string{"artifact": "rel-1"})
	l.Record("update.committed", nil)
	l.Close()
	b, _ := os.ReadFile(filepath.Join(dir, logName))
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte("{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, logName), data, 0o600)
		r := Verify(d, testKey)
		if r.OK() && len(r.Entries) > 0 {
			// Only entries made with the key verify; with no head the
			// trail cannot be OK.
			t.Fatalf("accepted %d entries without a head", len(r.Entries))
		}
	})
}
