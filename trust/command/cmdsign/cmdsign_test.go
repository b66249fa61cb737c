package cmdsign

import (
	"bytes"
	"crypto/ed25519"
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
