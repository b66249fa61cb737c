package engine

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		must(t, os.MkdirAll("testdata", 0o755))
		must(t, os.WriteFile(p, got, 0o644))
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestStatusGolden(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "update.journal")
	at := time.Date(2026, 11, 29, 5, 0, 0, 0, time.UTC)
	must(t, saveJournal(p, stateKey(t, dir), &Journal{
		Version: JournalVersion, State: StateRolledBack, Artifact: "release-2",
		FromSlot: "A", FromPart: "2", ToSlot: "B", ToPart: "3", Size: 614417,
		Entries:   map[State]int{StateDownload: 1, StateInstall: 1, StateHealth: 1, StateRollback: 1, StateRolledBack: 1},
		Reason:    `health: health check "broker reachable" (broker-reachable): connection refused`,
		Installed: map[string]string{"artifact_name": "release-1"}, UpdatedAt: at,
	}))
	for _, tc := range []struct{ name, flag string }{{"status.txt", ""}, {"status.json", "--json"}} {
		var out, errb bytes.Buffer
		args := []string{"status", "--journal", p, "--tpm", "off"}
		if tc.flag != "" {
			args = append(args, tc.flag)
		}
		must(t, command(context.Background(), &out, &errb, args))
		golden(t, tc.name, out.Bytes())
	}
}
