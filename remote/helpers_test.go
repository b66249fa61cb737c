package remote

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"medagent/handoff"
	"medagent/telemetry"
	"medagent/trust/command"
	"medagent/trust/keyring"
	"medagent/update/engine"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// spoolRec is a fake spool that keeps what was appended.
type spoolRec struct {
	mu    sync.Mutex
	packs []telemetry.Pack
}

func (s *spoolRec) Append(_ context.Context, class telemetry.Class, stream string, t time.Time, payload []byte) (uint64, error) {
	p, err := telemetry.Unmarshal(payload)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.packs = append(s.packs, p)
	return uint64(len(s.packs)), nil
}

// results returns the command results spooled so far.
func (s *spoolRec) results(t *testing.T) []command.Result {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []command.Result
	for _, p := range s.packs {
		b, ok := p.CommandResult()
		if !ok {
			continue
		}
		var r command.Result
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("spooled result %q: %v", b, err)
		}
		out = append(out, r)
	}
	return out
}

// testKeyringKey authenticates the rig's sealed keyring.
var testKeyringKey = bytes.Repeat([]byte{0x4b}, 32)

// rig is the acquire side with a producer beside it, all in a temp dir.
type rig struct {
	dir   string
	ops   *ecdsa.PrivateKey
	spool *spoolRec
	s     *Service
	p     *handoff.Producer
	o     Options
	now   time.Time
}

func newRig(t *testing.T, mod func(o *Options)) *rig {
	t.Helper()
	dir := t.TempDir()
	r := &rig{dir: dir, spool: &spoolRec{}, now: time.Now()}
	r.ops, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&r.ops.PublicKey)
	upd, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	uder, _ := x509.MarshalPKIXPublicKey(&upd.PublicKey)
	ring := filepath.Join(dir, "acquire", "keyring.json")
	os.Mkdir(filepath.Join(dir, "acquire"), 0o700)
	if _, err := keyring.Create(ring, []keyring.Key{{ID: "ops", PublicKey: der}}, []keyring.Key{{ID: "rel", PublicKey: uder}}); err != nil {
		t.Fatal(err)
	}
	ho := handoff.Options{Dir: filepath.Join(dir, "handoff"), StateDir: filepath.Join(dir, "shared", "handoff")}
	r.o = Options{DeviceID: "MA-T", Keyring: ring, KeyringKey: testKeyringKey, NonceFile: filepath.Join(dir, "acquire", "nonces.json"),
		Handoff: ho, Spool: r.spool, Logger: quiet, Now: func() time.Time { return r.now }}
	if mod != nil {
		mod(&r.o)
	}
	r.open(t)
	var err error
	if r.p, err = handoff.OpenProducer(ho); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) open(t *testing.T) {
	t.Helper()
	var err error
	if r.s, err = New(r.o); err != nil {
		t.Fatal(err)
	}
}

// cmd signs a command for this device with the ops key.
func (r *rig) cmd(t *testing.T, name string, args map[string]string) []byte {
	t.Helper()
	e := &command.Envelope{V: command.Version, Device: "MA-T", Name: name, Args: args,
		IssuedAt: r.now.Unix(), ExpiresAt: r.now.Add(time.Hour).Unix(), Nonce: command.NewNonce()}
	if err := command.Sign(e, "ops", r.ops); err != nil {
		t.Fatal(err)
	}
	return e.Marshal()
}

// submit hands payload over and lets the consumer take it.
func (r *rig) submit(t *testing.T, payload []byte) handoff.State {
	t.Helper()
	id, err := r.p.Submit(context.Background(), handoff.Item{Kind: handoff.KindCommand, Envelope: payload})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.s.c.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := r.p.State(id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// fakeUpdater is an update engine that is never asked to install here.
type fakeUpdater struct{}

func (fakeUpdater) InstallWith(context.Context, io.Reader, engine.InstallOptions) error {
	return errors.New("fake")
}
func (fakeUpdater) Status() engine.Status { return engine.Status{State: engine.StateIdle} }
