package agent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"medagent/acquire/simbench"
	"medagent/handoff"
	"medagent/trust/command"
	"medagent/trust/keyring"
	"medagent/update/bootenv"
)

// Update keys rotate by signed command: an artifact signed by a key the
// device does not trust is refused and leaves the boot environment alone;
// after a signed keyring change adds that key, the same artifact installs.
func TestKeyringRotationGovernsUpdates(t *testing.T) {
	cfg := testConfig(t)
	fx := newUpdateFixture(t, &cfg) // signed by a key that is not yet trusted
	cfg.Update.RebootCommand = []string{"true"}
	ops, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	opsDER, _ := x509.MarshalPKIXPublicKey(&ops.PublicKey)
	old, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	oldDER, _ := x509.MarshalPKIXPublicKey(&old.PublicKey)
	cfg.Commands.Enabled = true
	cfg.Commands.Keyring = filepath.Join(fx.dir, "keyring.json")
	cfg.Commands.NonceFile = filepath.Join(fx.dir, "nonces.json")
	if _, err := keyring.Create(cfg.Commands.Keyring, []keyring.Key{{ID: "ops", PublicKey: opsDER}}, []keyring.Key{{ID: "rel-old", PublicKey: oldDER}}); err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{Config: cfg, Role: RoleAll, Logger: quiet, Bench: simbench.New}) // broker unreachable: commands are handed in directly
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()

	install := func() error {
		f, err := os.Open(fx.art)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		ictx, icancel := context.WithTimeout(ctx, 20*time.Second)
		defer icancel()
		go func() { // the patient is monitored: let the reboot go once armed
			for ictx.Err() == nil && !a.upd.Status().RebootPending {
				time.Sleep(50 * time.Millisecond)
			}
			a.upd.ForceReboot()
		}()
		return a.upd.Install(ictx, f)
	}
	if err := install(); err == nil || !strings.Contains(strings.ToLower(err.Error()), "signature") {
		t.Fatalf("artifact from an untrusted key: install error %v, want a signature refusal", err)
	}
	bcfg, _ := bootenv.ReadConfigFile(cfg.Update.FWEnvConfig)
	env, _ := bootenv.NewUBoot(bcfg)
	armed := func() map[string]string {
		v, err := env.ReadEnv("mender_boot_part", "upgrade_available")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := armed(); v["mender_boot_part"] != "2" || v["upgrade_available"] != "0" {
		t.Fatalf("the refused artifact changed the boot environment: %v", v)
	}

	now := time.Now()
	e := &command.Envelope{V: command.Version, Device: cfg.Device.ID, Name: command.Config,
		IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Minute).Unix(), Nonce: command.NewNonce(),
		Args: map[string]string{
			"keyring.version": "2", "keyring.set": "update",
			"keyring.add_id": "rel-new", "keyring.add_key": base64.StdEncoding.EncodeToString(fx.pubDER),
		}}
	// The ops (command) key alone cannot add an update key.
	if err := command.Sign(e, "ops", ops); err != nil {
		t.Fatal(err)
	}
	if st := obey(t, a.hand, e.Marshal()); st.Phase == handoff.Success || !strings.Contains(st.Reason, "update key") {
		t.Fatalf("update key added by a command key alone: %+v", st)
	}
	// Signed by the current update key (rel-old) as well, it is applied.
	sig, err := keyring.SignUpdateChange(e.Args, old)
	if err != nil {
		t.Fatal(err)
	}
	e.Args[keyring.UpdateSigArg] = sig
	e.Nonce = command.NewNonce()
	if err := command.Sign(e, "ops", ops); err != nil {
		t.Fatal(err)
	}
	if st := obey(t, a.hand, e.Marshal()); st.Phase != handoff.Success {
		t.Fatalf("keyring change: %+v", st)
	}
	if err := install(); err != nil {
		t.Fatalf("after the signed rotation the artifact is still refused: %v", err)
	}
	if v := armed(); v["mender_boot_part"] != "3" || v["upgrade_available"] != "1" {
		t.Errorf("after the install the trial boot of B is not armed: %v", v)
	}
}
