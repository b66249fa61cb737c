package keyring

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"medagent/trust/command"
)

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func key(t *testing.T, id string, pub crypto.PublicKey) Key {
	k, err := NewKey(id, pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type rig struct {
	path string
	ring *Ring
	v    *command.Verifier
	now  time.Time
}

func newRig(t *testing.T, cmdKey, updKey crypto.PublicKey) *rig {
	dir := t.TempDir()
	p := filepath.Join(dir, "keyring.json")
	r, err := Create(p, []Key{key(t, "ops-1", cmdKey)}, []Key{key(t, "rel-1", updKey)})
	if err != nil {
		t.Fatal(err)
	}
	v, err := command.NewVerifier(command.Options{DeviceID: "MA-0001", Keys: r, NonceFile: filepath.Join(dir, "nonces.json")})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{path: p, ring: r, v: v, now: time.Now()}
}

func (g *rig) send(t *testing.T, keyID string, k crypto.Signer, args map[string]string, tamper func([]byte) []byte) (bool, error) {
	t.Helper()
	e := &command.Envelope{V: command.Version, Device: "MA-0001", Name: command.Config, Args: args,
		IssuedAt: g.now.Unix(), ExpiresAt: g.now.Add(time.Hour).Unix(), Nonce: command.NewNonce()}
	if err := command.Sign(e, keyID, k); err != nil {
		t.Fatal(err)
	}
	p := e.Marshal()
	if tamper != nil {
		p = tamper(p)
	}
	c, err := g.v.Verify(g.now, p)
	if err != nil {
		return false, err
	}
	return g.ring.Apply(c)
}

func TestRotateCommandKey(t *testing.T) {
	old, upd := ecKey(t), ecKey(t)
	_, next, _ := ed25519.GenerateKey(rand.Reader)
	g := newRig(t, old.Public(), upd.Public())
	enc, _ := EncodeKey(next.Public())
	rotate := map[string]string{"keyring.version": "2", "keyring.set": CommandSet,
		"keyring.add_id": "ops-2", "keyring.add_key": enc, "keyring.retire_id": "ops-1"}

	// A tampered rotation (the attacker swaps in their key) is refused and changes nothing.
	attacker := ecKey(t)
	bad, _ := EncodeKey(attacker.Public())
	_, err := g.send(t, "ops-1", old, rotate, func(p []byte) []byte {
		var m map[string]any
		json.Unmarshal(p, &m)
		m["args"].(map[string]any)["keyring.add_key"] = bad
		b, _ := json.Marshal(m)
		return b
	})
	if !errors.Is(err, command.ErrBadSignature) {
		t.Fatalf("tampered rotation: %v, want ErrBadSignature", err)
	}
	// Signed by an unknown key: refused.
	if _, err := g.send(t, "attacker", attacker, rotate, nil); !errors.Is(err, command.ErrUnknownKey) {
		t.Fatalf("rotation signed by an unknown key: %v", err)
	}
	if g.ring.Version() != 1 {
		t.Fatal("refused commands changed the keyring")
	}

	applied, err := g.send(t, "ops-1", old, rotate, nil)
	if err != nil || !applied {
		t.Fatalf("valid rotation: applied %v, %v", applied, err)
	}
	if _, ok := g.ring.CommandKey("ops-1"); ok {
		t.Fatal("retired key still configured")
	}
	// The old key no longer commands; the new one does.
	if _, err := g.send(t, "ops-1", old, map[string]string{"x": "y"}, nil); !errors.Is(err, command.ErrUnknownKey) {
		t.Fatalf("command from the retired key: %v, want ErrUnknownKey", err)
	}
	if _, err := g.send(t, "ops-2", next, map[string]string{"x": "y"}, nil); err != nil {
		t.Fatalf("command from the new key: %v", err)
	}
	// The change survived a restart.
	r2, err := Load(g.path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r2.CommandKey("ops-2"); !ok || r2.Version() != 2 {
		t.Fatalf("reloaded keyring: version %d", r2.Version())
	}
}

func TestApplyRefusals(t *testing.T) {
	cmdKey, upd := ecKey(t), ecKey(t)
	g := newRig(t, cmdKey.Public(), upd.Public())
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	smallEnc, _ := EncodeKey(small.Public())
	rsaOK, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaEnc, _ := EncodeKey(rsaOK.Public())
	v := func(n int) string { return strconv.Itoa(n) }
	cases := []struct {
		name string
		args map[string]string
	}{
		{"stale version", map[string]string{"keyring.version": "1", "keyring.set": UpdateSet, "keyring.add_id": "x", "keyring.add_key": rsaEnc}},
		{"skipped version", map[string]string{"keyring.version": "3", "keyring.set": UpdateSet, "keyring.add_id": "x", "keyring.add_key": rsaEnc}},
		{"unknown set", map[string]string{"keyring.version": v(2), "keyring.set": "root", "keyring.add_id": "x", "keyring.add_key": rsaEnc}},
		{"retire last command key", map[string]string{"keyring.version": v(2), "keyring.set": CommandSet, "keyring.retire_id": "ops-1"}},
		{"retire unknown", map[string]string{"keyring.version": v(2), "keyring.set": UpdateSet, "keyring.retire_id": "nope"}},
		{"RSA as command key", map[string]string{"keyring.version": v(2), "keyring.set": CommandSet, "keyring.add_id": "r", "keyring.add_key": rsaEnc}},
		{"weak RSA update key", map[string]string{"keyring.version": v(2), "keyring.set": UpdateSet, "keyring.add_id": "r", "keyring.add_key": smallEnc}},
		{"duplicate id", map[string]string{"keyring.version": v(2), "keyring.set": UpdateSet, "keyring.add_id": "rel-1", "keyring.add_key": rsaEnc}},
		{"nothing to do", map[string]string{"keyring.version": v(2), "keyring.set": UpdateSet}},
		{"bad base64", map[string]string{"keyring.version": v(2), "keyring.set": UpdateSet, "keyring.add_id": "r", "keyring.add_key": "!!"}},
	}
	before, _ := os.ReadFile(g.path)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			applied, err := g.send(t, "ops-1", cmdKey, c.args, nil)
			if !applied || !errors.Is(err, ErrRefused) {
				t.Fatalf("applied %v, err %v; want a refusal", applied, err)
			}
		})
	}
	if after, _ := os.ReadFile(g.path); string(after) != string(before) || g.ring.Version() != 1 {
		t.Fatal("refused changes altered the store")
	}
	// An RSA-2048 update key is fine.
	if _, err := g.send(t, "ops-1", cmdKey, map[string]string{"keyring.version": "2", "keyring.set": UpdateSet, "keyring.add_id": "rel-2", "keyring.add_key": rsaEnc}, nil); err != nil {
		t.Fatal(err)
	}
	if n := len(g.ring.UpdateKeys()); n != 2 {
		t.Fatalf("%d update keys, want 2", n)
	}
	// Not a keyring command: not applied, no error.
	if applied, err := g.send(t, "ops-1", cmdKey, map[string]string{"sample_rate": "250"}, nil); applied || err != nil {
		t.Fatalf("plain config: applied %v, %v", applied, err)
	}
}

func TestLoadFailsClosed(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"missing":         "",
		"garbage":         "{",
		"unknown field":   `{"format":1,"version":1,"command_keys":[],"update_keys":[],"root":1}`,
		"no command keys": `{"format":1,"version":1,"command_keys":[],"update_keys":[{"id":"a","public_key":"AA=="}]}`,
		"format 2":        `{"format":2}`,
	} {
		p := filepath.Join(dir, name)
		if body != "" {
			os.WriteFile(p, []byte(body), 0o644)
		}
		if _, err := Load(p); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	k := ecKey(t)
	p := filepath.Join(dir, "ok")
	if _, err := Create(p, []Key{key(t, "a", k.Public())}, []Key{key(t, "b", k.Public())}); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(p, []Key{key(t, "a", k.Public())}, []Key{key(t, "b", k.Public())}); err == nil {
		t.Fatal("Create overwrote an existing store")
	}
}
