package spool

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"medagent/telemetry"
)

// With ReaderDir apart from Dir (the two roles as different users), the
// Reader writes only its lock and cursor there and never deletes a
// segment; the Writer deletes what the cursor covers at its next roll, and
// everything the Writer makes is readable by the directory's group.
func TestReaderDirApart(t *testing.T) {
	forBoth(t, func(t *testing.T, enc bool) {
		o := testOpts(t, enc)
		o.ReaderDir = filepath.Join(t.TempDir(), "reader")
		w := mustWriter(t, o)
		defer w.Close()
		const n = 40
		for range n {
			mustAppend(t, w, telemetry.ClassTelemetry, "temp", 300)
		}
		segDir := filepath.Join(o.Dir, classDirName(telemetry.ClassTelemetry))
		before, err := listSegments(segDir)
		if err != nil || len(before) < 3 {
			t.Fatalf("want several segments, got %v (%v)", before, err)
		}
		r := mustReader(t, o)
		recs := drain(t, r, 100*time.Millisecond)
		if len(recs) != n {
			t.Fatalf("read %d records, want %d", len(recs), n)
		}
		for _, rec := range recs {
			checkRecord(t, rec)
			if err := r.Ack(rec.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"reader.lock", cursorFile} {
			if _, err := os.Stat(filepath.Join(o.ReaderDir, f)); err != nil {
				t.Errorf("reader file not in ReaderDir: %v", err)
			}
			if _, err := os.Stat(filepath.Join(o.Dir, f)); err == nil {
				t.Errorf("%s written into the writer's directory", f)
			}
		}
		if after, _ := listSegments(segDir); len(after) != len(before) {
			t.Fatalf("the reader deleted segments: %d before, %d after", len(before), len(after))
		}
		// The next roll deletes everything below the cursor but the newest.
		for range 12 {
			mustAppend(t, w, telemetry.ClassTelemetry, "temp", 300)
		}
		after, _ := listSegments(segDir)
		if len(after) == 0 || after[0] < before[len(before)-1] {
			t.Fatalf("acknowledged segments still there after a roll: before %v, after %v", before, after)
		}
		// Group-readable, never group-writable.
		filepath.Walk(o.Dir, func(p string, fi os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			m := fi.Mode().Perm()
			if m&0o040 == 0 || m&0o022 != 0 {
				t.Errorf("%s: mode %v, want group-readable and not group/other-writable", p, m)
			}
			return nil
		})
		// A new reader starts after what was acknowledged.
		r2 := mustReader(t, o)
		defer r2.Close()
		if got := drain(t, r2, 100*time.Millisecond); len(got) != 12 {
			t.Fatalf("after restart read %d records, want the 12 unacknowledged", len(got))
		}
	})
}
