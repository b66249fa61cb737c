package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"medagent/internal/authfile"
	"medagent/trust/audit"
	"medagent/trust/datakey"
)

// TestLogsAudit: "medagent logs --audit --audit-dir" prints the checked
// trail without raw control characters from the outside, and exits 1 with
// the edited entry named when the trail was tampered with.
func TestLogsAudit(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	k, err := datakey.Load(datakey.Options{TPM: "off", File: filepath.Join(dir, "state.key"), Private: true})
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(audit.Options{Dir: dir, Key: authfile.DeriveKey(k, "audit log")})
	if err != nil {
		t.Fatal(err)
	}
	l.Record("update.refused", map[string]string{"artifact": "evil\x1b[2J\nrel", "reason": "signature"})
	l.Record("technician.action", map[string]string{"uid": "1001", "cmd": "update", "op": "commit"})
	l.Close()
	run := func() (int, string) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), []string{"logs", "--audit", "--audit-dir", dir, "--tpm", "off"}, &out, &errb)
		return code, out.String() + errb.String()
	}
	code, out := run()
	if code != 0 || !strings.Contains(out, "audit trail intact: entries 1..2") || !strings.Contains(out, "update.refused") || !strings.Contains(out, "uid=1001") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if strings.ContainsAny(out, "\x1b\r") || strings.Contains(out, "\nrel") {
		t.Fatalf("raw control characters in the output:\n%q", out)
	}
	p := filepath.Join(dir, "audit.log")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, bytes.Replace(b, []byte(`"uid":"1001"`), []byte(`"uid":"0"`), 1), 0o600)
	code, out = run()
	if code != 1 || !strings.Contains(out, "audit trail BROKEN") || !strings.Contains(out, "seq 2): edited") {
		t.Fatalf("edited trail: exit %d:\n%s", code, out)
	}
}
