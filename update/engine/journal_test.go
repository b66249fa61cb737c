package engine

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var journalSeeds = []string{
	`{"version": 1, "state": "idle"}`,
	`{"version": 1, "state": "reboot", "artifact": "r2", "from_slot": "A", "from_part": "2", "to_slot": "B", "to_part": "3", "entries": {"download": 1, "reboot": 2}}`,
	`{"version": 2, "state": "idle"}`,
	`{"state": "idle"}`,
	`{"version": 1, "state": "idle", "surprise": 1}`,
	`{"version": 1}`,
	`[]`,
}

func TestJournalRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "j")
	j := &Journal{Version: JournalVersion, State: StateHealth, Artifact: "r2", Entries: map[State]int{StateHealth: 2},
		Installed: map[string]string{"artifact_name": "r1"}, History: []Transition{{State: StateHealth}}}
	must(t, saveJournal(p, j))
	got, err := loadJournal(p)
	must(t, err)
	if d := cmp.Diff(j, got); d != "" {
		t.Error(d)
	}
	if ents, _ := os.ReadDir(filepath.Dir(p)); len(ents) != 1 {
		t.Errorf("temp files left: %v", ents)
	}
	if _, err := parseJournal([]byte(journalSeeds[2]), "x"); !errors.Is(err, ErrJournalVersion) {
		t.Errorf("version 2: %v", err)
	}
}

func FuzzJournal(f *testing.F) {
	for _, s := range journalSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		j, err := parseJournal(b, "fuzz")
		if err != nil {
			return
		}
		if j.Version != JournalVersion || j.State == "" {
			t.Fatalf("accepted journal %+v", j)
		}
	})
}
