package engine

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"medagent/internal/authfile"
)

var testJournalKey = bytes.Repeat([]byte{0x4a}, 32)

var journalSeeds = []string{
	`{"version": 1, "state": "idle"}`,
	`{"version": 1, "state": "reboot", "artifact": "r2", "from_slot": "A", "from_part": "2", "to_slot": "B", "to_part": "3", "entries": {"download": 1, "reboot": 2}}`,
	`{"version": 2, "state": "arm"}`,
	`{"format":"medagent-update-journal","version":2,"mac":"00","body":{"version":2,"state":"arm"}}`,
	`{"state": "idle"}`,
	`[]`,
}

func TestJournalRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "j")
	j := &Journal{Version: JournalVersion, State: StateHealth, Artifact: "r2", Entries: map[State]int{StateHealth: 2},
		Digest: "ab", Installed: map[string]string{"artifact_name": "r1"}, History: []Transition{{State: StateHealth}}}
	must(t, saveJournal(p, testJournalKey, j))
	got, rejected := loadJournal(p, testJournalKey)
	if rejected != nil {
		t.Fatal(rejected)
	}
	if d := cmp.Diff(j, got); d != "" {
		t.Error(d)
	}
	if ents, _ := os.ReadDir(filepath.Dir(p)); len(ents) != 1 {
		t.Errorf("temp files left: %v", ents)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v, want 0600", st.Mode())
	}
}

// TestJournalFailingItsCheck: every journal that is not exactly what this
// engine wrote with its key is "nothing in progress" (idle), kept aside,
// and never read again.
func TestJournalFailingItsCheck(t *testing.T) {
	good, err := authfile.Marshal(testJournalKey, journalFormat, JournalVersion, &Journal{Version: JournalVersion, State: StateArm, ToPart: "3"})
	must(t, err)
	other, err := authfile.Marshal(bytes.Repeat([]byte{1}, 32), journalFormat, JournalVersion, &Journal{Version: JournalVersion, State: StateArm})
	must(t, err)
	for name, b := range map[string][]byte{
		"plain JSON saying arm (version 1)": []byte(journalSeeds[1]),
		"edited state":                      bytes.Replace(good, []byte(`"state": "arm"`), []byte(`"state": "reboot"`), 1),
		"edited slot":                       bytes.Replace(good, []byte(`"to_part": "3"`), []byte(`"to_part": "2"`), 1),
		"written with another key":          other,
		"not JSON":                          []byte("arm"),
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "journal")
			must(t, os.WriteFile(p, b, 0o600))
			j, rejected := loadJournal(p, testJournalKey)
			if rejected == nil || j.State != StateIdle {
				t.Fatalf("state %s, rejected %v: want idle and a reason", j.State, rejected)
			}
			if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Error("the rejected journal is still in place")
			}
			if kept, _ := os.ReadFile(p + ".rejected"); !bytes.Equal(kept, b) {
				t.Error("the rejected journal was not kept aside")
			}
		})
	}
	t.Run("group-writable file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "journal")
		must(t, os.WriteFile(p, good, 0o600))
		must(t, os.Chmod(p, 0o660))
		if j, rejected := loadJournal(p, testJournalKey); !errors.Is(rejected, authfile.ErrOwner) || j.State != StateIdle {
			t.Errorf("state %s, %v", j.State, rejected)
		}
	})
	t.Run("authentic", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "journal")
		must(t, os.WriteFile(p, good, 0o600))
		if j, rejected := loadJournal(p, testJournalKey); rejected != nil || j.State != StateArm {
			t.Errorf("state %s, %v", j.State, rejected)
		}
	})
}

func FuzzJournal(f *testing.F) {
	for _, s := range journalSeeds {
		f.Add([]byte(s))
	}
	good, _ := authfile.Marshal(testJournalKey, journalFormat, JournalVersion, &Journal{Version: JournalVersion, State: StateIdle})
	f.Add(good)
	f.Fuzz(func(t *testing.T, b []byte) {
		j, err := parseJournal(b, "fuzz", testJournalKey)
		if err != nil {
			return
		}
		if j.Version != JournalVersion || j.State == "" {
			t.Fatalf("accepted journal %+v", j)
		}
	})
}
