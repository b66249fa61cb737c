package command

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCommandSignsWhatVerifierAccepts(t *testing.T) {
	f := newFixture(t)
	der, _ := x509.MarshalPKCS8PrivateKey(f.ed)
	kf := filepath.Join(t.TempDir(), "ops.pem")
	os.WriteFile(kf, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	old := now
	now = func() time.Time { return t0 }
	defer func() { now = old }()
	var out, errb bytes.Buffer
	err := Command(t.Context(), &out, &errb, []string{"--key", kf, "--key-id", "ops-ed", "--device", "MA-0001", "--name", "update", "--arg", "url=https://u.example/a.mender"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.v.Verify(t0.Add(time.Second), bytes.TrimSpace(out.Bytes()))
	if err != nil {
		t.Fatalf("device refused the signed command: %v", err)
	}
	if c.Name != Update || c.Args["url"] != "https://u.example/a.mender" {
		t.Fatalf("command %+v", c)
	}
	if err := Command(t.Context(), &out, &errb, []string{"--key", kf, "--key-id", "x", "--device", "d", "--name", "format-disk"}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("unknown name: %v", err)
	}
	if err := Command(t.Context(), &out, &errb, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
}
