package cmdsign

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"medagent/trust/command"
	"medagent/trust/keyring"
)

var t0 = time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)

func TestCommandSignsWhatVerifierAccepts(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	v, err := command.NewVerifier(command.Options{DeviceID: "MA-0001", Keys: command.StaticKeys{"ops-ed": ed.Public()}, NonceFile: filepath.Join(t.TempDir(), "n")})
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(ed)
	kf := filepath.Join(t.TempDir(), "ops.pem")
	os.WriteFile(kf, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	old := now
	now = func() time.Time { return t0 }
	defer func() { now = old }()
	var out, errb bytes.Buffer
	err = Command(t.Context(), &out, &errb, []string{"--key", kf, "--key-id", "ops-ed", "--device", "MA-0001", "--name", "update", "--arg", "url=https://u.example/a.mender"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(t0.Add(time.Second), bytes.TrimSpace(out.Bytes()))
	if err != nil {
		t.Fatalf("device refused the signed command: %v", err)
	}
	if c.Name != command.Update || c.Args["url"] != "https://u.example/a.mender" {
		t.Fatalf("command %+v", c)
	}
	if err := Command(t.Context(), &out, &errb, []string{"--key", kf, "--key-id", "x", "--device", "d", "--name", "format-disk"}); !errors.Is(err, command.ErrMalformed) {
		t.Fatalf("unknown name: %v", err)
	}
	if err := Command(t.Context(), &out, &errb, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
}

// TestUpdateKeyChange: cmd-sign with --update-key (an openssl-style SEC1
// EC key, as mender-artifact uses) produces a change the device's keyring
// applies; without --update-key it refuses to emit one.
func TestUpdateKeyChange(t *testing.T) {
	dir := t.TempDir()
	_, ops, _ := ed25519.GenerateKey(rand.Reader)
	opsDER, _ := x509.MarshalPKCS8PrivateKey(ops)
	opsFile := filepath.Join(dir, "ops.pem")
	os.WriteFile(opsFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: opsDER}), 0o600)
	rel, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	relDER, _ := x509.MarshalECPrivateKey(rel)
	relFile := filepath.Join(dir, "rel.pem")
	os.WriteFile(relFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: relDER}), 0o600)
	opsKey, _ := keyring.NewKey("ops", ops.Public())
	relKey, _ := keyring.NewKey("rel-1", rel.Public())
	ring, err := keyring.Create(filepath.Join(dir, "keyring.json"), []keyring.Key{opsKey}, []keyring.Key{relKey})
	if err != nil {
		t.Fatal(err)
	}
	v, err := command.NewVerifier(command.Options{DeviceID: "MA-0001", Keys: ring, NonceFile: filepath.Join(dir, "n")})
	if err != nil {
		t.Fatal(err)
	}
	next, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	nextEnc, _ := keyring.EncodeKey(next.Public())
	args := []string{"--key", opsFile, "--key-id", "ops", "--device", "MA-0001", "--name", "config",
		"--arg", "keyring.version=2", "--arg", "keyring.set=update", "--arg", "keyring.add_id=rel-2", "--arg", "keyring.add_key=" + nextEnc}
	var out, errb bytes.Buffer
	if err := Command(t.Context(), &out, &errb, args); err == nil {
		t.Fatal("emitted an update-key change without --update-key")
	}
	out.Reset()
	if err := Command(t.Context(), &out, &errb, append(args, "--update-key", relFile)); err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(time.Now(), bytes.TrimSpace(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if applied, err := ring.Apply(c); !applied || err != nil {
		t.Fatalf("applied %v, %v", applied, err)
	}
	if len(ring.UpdateKeys()) != 2 {
		t.Fatal("update key not added")
	}
}
