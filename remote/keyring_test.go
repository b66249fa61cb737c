package remote

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"medagent/handoff"
	"medagent/internal/authfile"
	"medagent/trust/command"
	"medagent/trust/keyring"
)

// evilCmd is a command signed by a key the device never trusted.
func (r *rig) evilCmd(t *testing.T, id string, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	e := &command.Envelope{V: command.Version, Device: "MA-T", Name: command.Diagnostics,
		IssuedAt: r.now.Unix(), ExpiresAt: r.now.Add(time.Hour).Unix(), Nonce: command.NewNonce()}
	if err := command.Sign(e, id, k); err != nil {
		t.Fatal(err)
	}
	return e.Marshal()
}

// auditRec records audit entries.
type auditRec struct {
	mu   sync.Mutex
	kind []string
}

func (a *auditRec) add(kind string, f map[string]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.kind = append(a.kind, kind+" "+f["reason"])
}

func (a *auditRec) has(kind string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, k := range a.kind {
		if strings.HasPrefix(k, kind+" ") {
			return true
		}
	}
	return false
}

// TestEditedKeyringRefused: someone who can write the keyring file adds
// their own command key and update key to it (a plain, well-formed
// keyring, as provisioning writes one). After a restart the edit is
// refused and recorded: a command signed by their key is refused, their
// update key is not trusted, the file is put aside and rewritten from the
// sealed keyring, and the real keys still work. An edit of the sealed copy
// itself refuses every command (fail closed), also on every retry, until
// the keyring is provisioned again.
func TestEditedKeyringRefused(t *testing.T) {
	aud := &auditRec{}
	r := newRig(t, func(o *Options) { o.Audit = aud.add })
	if !aud.has("keyring.sealed") {
		t.Errorf("audit %q: the adoption of the provisioned keyring is not recorded", aud.kind)
	}
	evil, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	evilDER, _ := x509.MarshalPKIXPublicKey(&evil.PublicKey)
	var f map[string]any
	b, err := os.ReadFile(r.o.Keyring)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("keyring file is not plain JSON: %v", err)
	}
	f["version"] = 2
	f["command_keys"] = append(f["command_keys"].([]any), map[string]any{"id": "evil", "public_key": evilDER})
	f["update_keys"] = append(f["update_keys"].([]any), map[string]any{"id": "evil-rel", "public_key": evilDER})
	edited, _ := json.Marshal(f)
	if err := os.WriteFile(r.o.Keyring, edited, 0o600); err != nil {
		t.Fatal(err)
	}

	r.open(t) // restart
	if err := r.s.TrustError(); err != nil {
		t.Fatalf("the sealed keyring should stand: %v", err)
	}
	if st := r.submit(t, r.evilCmd(t, "evil", evil)); st.Phase != handoff.Failure {
		t.Errorf("command signed by a key edited into the file: %+v, want refused", st)
	}
	for _, k := range r.s.UpdateKeys() {
		if pk, ok := k.(*ecdsa.PublicKey); ok && pk.Equal(&evil.PublicKey) {
			t.Error("an update key edited into the file is trusted")
		}
	}
	if !aud.has("keyring.edit_refused") {
		t.Errorf("audit %q: the refused edit is not recorded", aud.kind)
	}
	if got, _ := os.ReadFile(r.o.Keyring + ".rejected"); string(got) != string(edited) {
		t.Error("the edited file was not kept aside as .rejected")
	}
	if got, _ := os.ReadFile(r.o.Keyring); strings.Contains(string(got), "evil") {
		t.Error("the keyring file still holds the edit")
	}
	if st := r.submit(t, r.cmd(t, command.Diagnostics, nil)); st.Phase != handoff.Success {
		t.Errorf("command by the real key after the refused edit: %+v", st)
	}

	// Now the sealed copy: its body edited the same way.
	sealed := r.o.Keyring + keyring.SealedSuffix
	sb, err := os.ReadFile(sealed)
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(sb, &env); err != nil {
		t.Fatal(err)
	}
	env["body"] = json.RawMessage(edited)
	sb, _ = json.Marshal(env)
	if err := os.WriteFile(sealed, sb, 0o600); err != nil {
		t.Fatal(err)
	}
	r.open(t)
	for range 2 { // a retry (the next command) does not fall back to the file
		err := r.s.TrustError()
		if !errors.Is(err, keyring.ErrTampered) || !errors.Is(err, authfile.ErrAuth) {
			t.Fatalf("TrustError %v, want the sealed keyring's check failure", err)
		}
		if st := r.submit(t, r.evilCmd(t, "evil", evil)); st.Phase != handoff.Failure || !strings.Contains(st.Reason, "sealed keyring") {
			t.Errorf("command with the sealed copy edited: %+v, want refused naming the sealed keyring", st)
		}
	}
	if r.s.UpdateKeys() != nil {
		t.Error("update keys trusted from a keyring whose sealed copy fails its check")
	}
	if !aud.has("keyring.refused") {
		t.Errorf("audit %q: the refused sealed keyring is not recorded", aud.kind)
	}
}
