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
	"strings"
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
	// An RSA-2048 update key is fine (signed by the current update key).
	add := map[string]string{"keyring.version": "2", "keyring.set": UpdateSet, "keyring.add_id": "rel-2", "keyring.add_key": rsaEnc}
	sig, err := SignUpdateChange(add, upd)
	if err != nil {
		t.Fatal(err)
	}
	add[UpdateSigArg] = sig
	if _, err := g.send(t, "ops-1", cmdKey, add, nil); err != nil {
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

// TestCommandKeyCannotMintUpdateKeys: a valid command (signed by a command
// key) that adds an update-signing key is refused unless a current update
// key signed exactly that change; the signature covers the key, the id and
// the resulting version.
func TestCommandKeyCannotMintUpdateKeys(t *testing.T) {
	cmdKey, upd := ecKey(t), ecKey(t)
	g := newRig(t, cmdKey.Public(), upd.Public())
	evil := ecKey(t)
	evilEnc, _ := EncodeKey(evil.Public())
	rel2 := ecKey(t)
	rel2Enc, _ := EncodeKey(rel2.Public())
	change := func(enc string) map[string]string {
		return map[string]string{"keyring.version": "2", "keyring.set": UpdateSet, "keyring.add_id": "rel-2", "keyring.add_key": enc}
	}
	signed := func(args map[string]string, by crypto.Signer) map[string]string {
		sig, err := SignUpdateChange(args, by)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{UpdateSigArg: sig}
		for k, v := range args {
			out[k] = v
		}
		return out
	}
	swapped := signed(change(rel2Enc), upd)
	swapped["keyring.add_key"] = evilEnc
	for name, args := range map[string]map[string]string{
		"command key alone":               change(evilEnc),
		"signed by the command key":       signed(change(evilEnc), cmdKey),
		"signed by the key being added":   signed(change(evilEnc), evil),
		"update signature, key swapped":   swapped,
		"update signature, other version": func() map[string]string { a := signed(change(rel2Enc), upd); a["keyring.version"] = "3"; return a }(),
		"update signature, retire swapped": func() map[string]string {
			a := signed(change(rel2Enc), upd)
			a["keyring.retire_id"] = "rel-1"
			return a
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			applied, err := g.send(t, "ops-1", cmdKey, args, nil)
			if !applied || !errors.Is(err, ErrRefused) {
				t.Fatalf("applied %v, err %v: want a refusal", applied, err)
			}
			if len(g.ring.UpdateKeys()) != 1 || g.ring.Version() != 1 {
				t.Fatal("the refused change altered the update keys")
			}
		})
	}
	if _, err := g.send(t, "ops-1", cmdKey, signed(change(rel2Enc), upd), nil); err != nil {
		t.Fatalf("change signed by the current update key: %v", err)
	}
	if len(g.ring.UpdateKeys()) != 2 {
		t.Fatal("update key not added")
	}
	// The new key now speaks for the set: it may retire the old one.
	retire := map[string]string{"keyring.version": "3", "keyring.set": UpdateSet, "keyring.retire_id": "rel-1"}
	if _, err := g.send(t, "ops-1", cmdKey, signed(retire, rel2), nil); err != nil {
		t.Fatalf("retire signed by the new update key: %v", err)
	}
	// Command keys still rotate with a command key alone.
	next := ecKey(t)
	nextEnc, _ := EncodeKey(next.Public())
	if _, err := g.send(t, "ops-1", cmdKey, map[string]string{"keyring.version": "4", "keyring.set": CommandSet, "keyring.add_id": "ops-2", "keyring.add_key": nextEnc}, nil); err != nil {
		t.Fatalf("command key rotation: %v", err)
	}
}

// TestEd25519UpdateKeyRefused: an Ed25519 update key is refused when added
// (by command or at creation), since artifacts are verified with RSA or
// ECDSA P-256 only; one already stored by an older agent is ignored on
// load (reported), not trusted and not fatal.
func TestEd25519UpdateKeyRefused(t *testing.T) {
	cmdKey, upd := ecKey(t), ecKey(t)
	g := newRig(t, cmdKey.Public(), upd.Public())
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	edEnc, _ := EncodeKey(edPub)
	args := map[string]string{"keyring.version": "2", "keyring.set": UpdateSet, "keyring.add_id": "rel-ed", "keyring.add_key": edEnc}
	sig, _ := SignUpdateChange(args, upd)
	args[UpdateSigArg] = sig
	if applied, err := g.send(t, "ops-1", cmdKey, args, nil); !applied || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "Ed25519") {
		t.Fatalf("adding an Ed25519 update key: applied %v, %v", applied, err)
	}
	dir := t.TempDir()
	if _, err := Create(filepath.Join(dir, "k.json"), []Key{key(t, "ops", cmdKey.Public())}, []Key{key(t, "ed", edPub)}); !errors.Is(err, ErrEd25519Update) {
		t.Fatalf("Create with an Ed25519 update key: %v", err)
	}
	// A store written by an older agent.
	old := file{Format: format, Version: 4, CommandKeys: []Key{key(t, "ops", cmdKey.Public())},
		UpdateKeys: []Key{key(t, "rel", upd.Public()), {ID: "ed", PublicKey: mustDER(t, edPub)}}}
	b, _ := json.Marshal(old)
	p := filepath.Join(dir, "old.json")
	os.WriteFile(p, b, 0o600)
	r, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.UpdateKeys()) != 1 || len(r.Ignored()) != 1 || !strings.Contains(r.Ignored()[0], "ed") {
		t.Fatalf("update keys %d, ignored %q", len(r.UpdateKeys()), r.Ignored())
	}
}

func mustDER(t *testing.T, pub crypto.PublicKey) []byte {
	k, err := NewKey("x", pub)
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey
}
