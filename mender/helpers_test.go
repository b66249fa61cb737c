package mender

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"medagent/handoff"
	"medagent/mender/mendertest"
	"medagent/update/artifact"
)

// updateKey makes an ECDSA P-256 signing key for mender-artifact (SEC1
// PEM) and returns its file and public key.
func updateKey(t *testing.T, dir, name string) (string, crypto.PublicKey) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".key")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, k.Public()
}

// writeArtifact writes a signed rootfs-image artifact of size bytes with
// Debian's mender-artifact (scripts/setup.sh installs it).
func writeArtifact(t *testing.T, dir, name, deviceType, key string, size int) string {
	t.Helper()
	if _, err := exec.LookPath("mender-artifact"); err != nil {
		t.Fatal("mender-artifact not found: install the Debian package mender-artifact (scripts/setup.sh)")
	}
	img := filepath.Join(dir, name+".ext4")
	b := make([]byte, size)
	rand.Read(b)
	if err := os.WriteFile(img, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name+".mender")
	cmd := exec.Command("mender-artifact", "write", "rootfs-image", "-f", img, "-n", name, "-t", deviceType, "-o", out, "-k", key, "--compression", "none")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mender-artifact write: %v\n%s", err, b)
	}
	return out
}

// fakeDevice reports settable provides and a small inventory.
type fakeDevice struct {
	mu   sync.Mutex
	prov map[string]string
}

func (d *fakeDevice) Provides() (map[string]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.prov), nil
}

func (d *fakeDevice) set(k, v string) {
	d.mu.Lock()
	d.prov[k] = v
	d.mu.Unlock()
}

func (d *fakeDevice) Inventory() ([]Attribute, error) {
	p, _ := d.Provides()
	return []Attribute{
		{Name: "device_type", Value: p["device_type"]},
		{Name: "artifact_name", Value: p["artifact_name"]},
		{Name: "kernel", Value: "6.1.0-test"},
		{Name: "sensors", Value: []string{"ads1292", "max30102", "tmp117"}},
	}, nil
}

// acquireSim stands for the acquire role on the other side of the real
// hand-off: it takes items and lets the test set their phases, verifying
// the artifact with the device's update keys as acquire does.
type acquireSim struct {
	p     *handoff.Producer
	c     *handoff.Consumer
	items chan handoff.Meta
	keys  []crypto.PublicKey
}

func newAcquire(t *testing.T, dir string, keys []crypto.PublicKey) *acquireSim {
	t.Helper()
	a := &acquireSim{items: make(chan handoff.Meta, 16), keys: keys}
	o := handoff.Options{Dir: filepath.Join(dir, "handoff"), StateDir: filepath.Join(dir, "shared"), Poll: 50 * time.Millisecond,
		Handle: func(_ context.Context, in *handoff.Incoming) {
			// Acquire verifies again, with its own keys.
			f, err := in.OpenArtifact()
			phase, reason := handoff.Verifying, ""
			if err == nil {
				_, err = artifact.Read(context.Background(), f, artifact.Options{Keys: a.keys, SkipCompatibility: true})
				f.Close()
			}
			if err != nil {
				phase, reason = handoff.Failure, err.Error()
			}
			a.c.Set(handoff.State{Format: handoff.Format, ID: in.Meta.ID, Kind: in.Meta.Kind, Phase: phase, Reason: reason})
			in.Close()
			a.items <- in.Meta
		}}
	var err error
	if a.p, err = handoff.OpenProducer(o); err != nil {
		t.Fatal(err)
	}
	if a.c, err = handoff.OpenConsumer(o); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return a
}

func (a *acquireSim) set(t *testing.T, id string, ph handoff.Phase, reason string) {
	t.Helper()
	if err := a.c.Set(handoff.State{Format: handoff.Format, ID: id, Kind: handoff.KindArtifact, Phase: ph, Reason: reason}); err != nil {
		t.Fatal(err)
	}
}

// rig is a device with its client, the test server and acquire.
type rig struct {
	srv    *mendertest.Server
	acq    *acquireSim
	dev    *fakeDevice
	dir    string
	opts   Options
	signer crypto.Signer
	keys   []crypto.PublicKey
	key    string // update signing key file
	logs   *strings.Builder
}

func newRig(t *testing.T, so mendertest.Options) *rig {
	t.Helper()
	dir := t.TempDir()
	r := &rig{srv: mendertest.Start(t, so), dir: dir, logs: &strings.Builder{},
		dev: &fakeDevice{prov: map[string]string{"device_type": "bedside", "artifact_name": "release-1"}}}
	ca := filepath.Join(dir, "server-ca.pem")
	if err := r.srv.WriteCA(ca); err != nil {
		t.Fatal(err)
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r.signer = k
	var pub crypto.PublicKey
	r.key, pub = updateKey(t, dir, "update")
	r.keys = []crypto.PublicKey{pub}
	r.acq = newAcquire(t, dir, r.keys)
	r.opts = Options{ServerURL: r.srv.URL, CAFile: ca, StateDir: filepath.Join(dir, "mender"),
		PollInterval: 200 * time.Millisecond, InventoryInterval: time.Hour,
		RetryMin: 100 * time.Millisecond, RetryMax: 400 * time.Millisecond, StallTimeout: 5 * time.Second}
	return r
}

// client makes a client of the rig's device; run starts it and returns
// its stop function.
func (r *rig) client(t *testing.T) *Client {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.MultiWriter(testWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(r.opts, "MA-0001", r.signer, r.keys, r.acq.p, r.dev, log)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func run(t *testing.T, c *Client) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run = %v after cancel, want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return 10 s after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// testWriter sends the client's log to the test log while the test runs.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	defer func() { recover() }() // a line after the test ended is dropped
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// statuses is what the server recorded for the device and deployment.
func (r *rig) statuses(dep string) []string {
	for _, d := range r.srv.Devices() {
		return d.Statuses[dep]
	}
	return nil
}

func (r *rig) device() mendertest.Device {
	for _, d := range r.srv.Devices() {
		return d
	}
	return mendertest.Device{}
}
