package identity

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"log/slog"

	"medagent/handoff"
	"medagent/mender"
	"medagent/mender/mendertest"
	"medagent/trust/internal/swtpmtest"
)

type noInstaller struct{ dir string }

func (n noInstaller) WorkDir() string { return n.dir }
func (noInstaller) Submit(context.Context, handoff.Item) (string, error) {
	return "", handoff.ErrFull
}
func (noInstaller) State(string) (handoff.State, error) { return handoff.State{}, handoff.ErrNotFound }

type device struct{}

func (device) Provides() (map[string]string, error) {
	return map[string]string{"device_type": "bedside", "artifact_name": "release-1"}, nil
}
func (device) Inventory() ([]mender.Attribute, error) {
	return []mender.Attribute{{Name: "device_type", Value: "bedside"}}, nil
}

// TestTPMKeyAuthenticatesWithMender: the Mender client signs its auth
// request with the TPM-held device key (the key never leaves the TPM), and
// the spec-built server verifies X-MEN-Signature against the public key
// sent with it, accepts and issues a JWT that the inventory call uses.
func TestTPMKeyAuthenticatesWithMender(t *testing.T) {
	sim := swtpmtest.Start(t, filepath.Join(t.TempDir(), "tpm"))
	id := openSim(t, sim)
	defer id.Close()
	srv := mendertest.Start(t, mendertest.Options{AcceptAll: true, PostNext: true})
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := srv.WriteCA(ca); err != nil {
		t.Fatal(err)
	}
	c, err := mender.New(mender.Options{ServerURL: srv.URL, CAFile: ca, StateDir: filepath.Join(dir, "state"),
		PollInterval: time.Second, RetryMin: 100 * time.Millisecond, RetryMax: time.Second},
		"MA-TPM", id, nil, noInstaller{dir}, device{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var d mendertest.Device
		for _, x := range srv.Devices() {
			d = x
		}
		if len(d.Inventory) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no inventory after 20 s; client status %+v, violations %v", c.Status(), srv.Violations())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st := c.Status(); st.Auth != "accepted" {
		t.Errorf("auth %q", st.Auth)
	}
	for _, v := range srv.Violations() {
		t.Errorf("spec violation: %s", v)
	}
}
