package agent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"medagent/acquire/simbench"
	"medagent/config"
	"medagent/trust/command"
	"medagent/trust/keyring"
	"medagent/update/bootenv"
	"medagent/uplink/mosquittotest"
)

// fleet is a device in split roles (two agents that meet only at the
// spool and the hand-off), a real mosquitto, an HTTPS artifact server and
// the signing key of the fleet's commands.
type fleet struct {
	cfg      config.Config
	fx       updateFixture
	mon      *mosquittotest.Monitor // cmd-result
	status   *mosquittotest.Monitor // the device's online/offline status
	ops      *ecdsa.PrivateKey
	url      string // of the artifact
	rebooted string // touched by the reboot command
	acq      *Agent
	stop     []func()
}

func newFleet(t *testing.T) *fleet {
	t.Helper()
	f := &fleet{cfg: testConfig(t)}
	cfg := &f.cfg
	f.fx = newUpdateFixture(t, cfg)
	cfg.Update.Keys = []string{f.fx.pubFile}
	f.rebooted = filepath.Join(f.fx.dir, "rebooted")
	cfg.Update.RebootCommand = []string{"touch", f.rebooted}
	pki := filepath.Dir(cfg.MQTT.CAFile)
	b := mosquittotest.Start(t, pki)
	cfg.MQTT.Broker, cfg.MQTT.ServerName = b.URL, "localhost"
	f.ops, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&f.ops.PublicKey)
	cfg.Commands.Enabled = true
	cfg.Commands.Keyring = filepath.Join(f.fx.dir, "keyring.json")
	cfg.Commands.NonceFile = filepath.Join(f.fx.dir, "nonces.json")
	if _, err := keyring.Create(cfg.Commands.Keyring, []keyring.Key{{ID: "ops", PublicKey: der}}, []keyring.Key{{ID: "rel", PublicKey: f.fx.pubDER}}); err != nil {
		t.Fatal(err)
	}
	art, err := os.ReadFile(f.fx.art)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "release-2.mender", time.Unix(1, 0), strings.NewReader(string(art)))
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL + "/release-2.mender"
	cfg.Handoff.DownloadCAFile = filepath.Join(f.fx.dir, "artifact-server.pem")
	os.WriteFile(cfg.Handoff.DownloadCAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644)
	f.mon = mosquittotest.Subscribe(t, b, pki, "medagent/v1/+/cmd-result", mosquittotest.MonitorOptions{})
	f.status = mosquittotest.Subscribe(t, b, pki, "medagent/v1/+/status", mosquittotest.MonitorOptions{})
	t.Cleanup(f.halt)
	return f
}

// start runs the given roles, each its own agent. With the uplink it
// returns once the device said "online", which it does after subscribing
// to its commands, so a command sent then is received.
func (f *fleet) start(t *testing.T, roles ...Role) {
	t.Helper()
	online := func(ms []mosquittotest.Message) (n int) {
		for _, m := range ms {
			if string(m.Payload) == "online" {
				n++
			}
		}
		return n
	}
	before := online(f.status.Messages())
	if slices.Contains(roles, RoleUplink) {
		defer f.status.WaitFor(t, 60*time.Second, "online status", func(ms []mosquittotest.Message) bool { return online(ms) > before })
	}
	for _, r := range roles {
		c := f.cfg
		if r == RoleUplink {
			c.Commands.Keyring, c.Commands.NonceFile = "/nonexistent/keyring.json", "/nonexistent/nonces.json"
		}
		a, err := New(Options{Config: c, Role: r, Logger: quiet, Bench: simbench.New})
		if err != nil {
			t.Fatalf("role %s: %v", r, err)
		}
		if r == RoleAcquire {
			f.acq = a
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		f.stop = append(f.stop, func() { cancel(); <-done })
	}
}

// halt stops every agent, as a reboot does.
func (f *fleet) halt() {
	for _, s := range f.stop {
		s()
	}
	f.stop, f.acq = nil, nil
}

// bootSlot makes the next start run on slot s ("a" or "b"), as the boot
// loader would say on the kernel command line.
func (f *fleet) bootSlot(t *testing.T, s string) {
	t.Helper()
	os.Remove(f.rebooted)
	if err := os.WriteFile(f.cfg.Update.Cmdline, []byte("console=ttyS0 medagent.slot="+s+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *fleet) send(t *testing.T, args map[string]string) string {
	t.Helper()
	now := time.Now()
	e := &command.Envelope{V: command.Version, Device: f.cfg.Device.ID, Name: command.Update, Args: args,
		IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Hour).Unix(), Nonce: command.NewNonce()}
	if err := command.Sign(e, "ops", f.ops); err != nil {
		t.Fatal(err)
	}
	f.mon.Publish(t, "medagent/v1/"+f.cfg.Device.ID+"/cmd/update", e.Marshal())
	r := command.ResultFor("", now, e.Marshal(), command.Command{}, command.ErrMalformed, nil)
	return r.Nonce
}

// waitResult waits for a result of command nonce with status/phase want
// (e.g. "accepted/reboot-pending", "done/") and returns it.
func (f *fleet) waitResult(t *testing.T, nonce, want string, timeout time.Duration) command.Result {
	t.Helper()
	var found command.Result
	f.mon.WaitFor(t, timeout, "cmd-result "+want, func(ms []mosquittotest.Message) bool {
		for _, m := range ms {
			var r command.Result
			if json.Unmarshal(m.Payload, &r) == nil && r.Nonce == nonce && r.Status+"/"+r.Phase == want {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

func (f *fleet) bootEnv(t *testing.T) map[string]string {
	t.Helper()
	bcfg, _ := bootenv.ReadConfigFile(f.cfg.Update.FWEnvConfig)
	env, _ := bootenv.NewUBoot(bcfg)
	v, err := env.ReadEnv("mender_boot_part", "upgrade_available")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (f *fleet) waitRebooted(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(f.rebooted); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the reboot request was not made")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A signed update command over MQTT, in split roles: the uplink downloads
// the artifact into the hand-off; acquire checks the digest the command
// named and the artifact's signature, installs while the patient is
// monitored but holds the reboot (reboot-pending on cmd-result) until a
// technician lets it go; after the reboot into the new slot the agent's
// own checks (sensors up; broker reachable, as the uplink says in the
// hand-off) commit it, and "done" arrives on cmd-result.
func TestFleetUpdateCommitted(t *testing.T) {
	f := newFleet(t)
	art, _ := os.ReadFile(f.fx.art)
	digest := fmt.Sprintf("sha256:%x", sha256.Sum256(art))
	f.start(t, RoleAcquire, RoleUplink)
	nonce := f.send(t, map[string]string{"url": f.url, "digest": digest})
	f.waitResult(t, nonce, "accepted/fetch", 30*time.Second)
	r := f.waitResult(t, nonce, "accepted/reboot-pending", 60*time.Second)
	if _, err := os.Stat(f.rebooted); err == nil {
		t.Fatal("rebooted while the patient was monitored")
	}
	if v := f.bootEnv(t); v["mender_boot_part"] != "3" || v["upgrade_available"] != "1" {
		t.Fatalf("trial boot of B not armed: %v (result %+v)", v, r)
	}
	f.acq.upd.ForceReboot() // the technician's decision
	f.waitResult(t, nonce, "accepted/rebooting", 30*time.Second)
	f.waitRebooted(t)

	f.halt()
	f.bootSlot(t, "b")
	f.start(t, RoleAcquire, RoleUplink)
	f.waitResult(t, nonce, "done/", 90*time.Second)
	if v := f.bootEnv(t); v["mender_boot_part"] != "3" || v["upgrade_available"] != "0" {
		t.Errorf("after the health checks: %v, want B committed", v)
	}
}

// The new slot is unhealthy (the uplink never comes up, so the broker is
// not reachable): the agent rolls back and reboots into the old slot, and
// "failed" with the reason arrives once the uplink is back. The result
// waited in the spool meanwhile.
func TestFleetUpdateRolledBack(t *testing.T) {
	f := newFleet(t)
	f.cfg.Update.HealthTimeout = 10 * time.Second
	art, _ := os.ReadFile(f.fx.art)
	f.start(t, RoleAcquire, RoleUplink)
	nonce := f.send(t, map[string]string{"url": f.url, "digest": fmt.Sprintf("sha256:%x", sha256.Sum256(art))})
	f.waitResult(t, nonce, "accepted/reboot-pending", 90*time.Second)
	f.acq.upd.ForceReboot()
	f.waitRebooted(t)
	f.halt()

	// Trial boot of B without a working uplink: the broker check fails.
	f.bootSlot(t, "b")
	os.Remove(filepath.Join(f.cfg.Handoff.Dir, "uplink.status"))
	f.start(t, RoleAcquire)
	f.acq.upd.ForceReboot() // the patient is monitored: the technician lets the rollback's reboot go
	f.waitRebooted(t)
	f.halt()
	if v := f.bootEnv(t); v["mender_boot_part"] != "2" {
		t.Fatalf("after the failed health check: %v, want slot A again", v)
	}
	f.bootSlot(t, "a")
	f.start(t, RoleAcquire, RoleUplink)
	r := f.waitResult(t, nonce, "failed/", 90*time.Second)
	if !strings.Contains(r.Error, "rolled back") || !strings.Contains(r.Error, "broker") {
		t.Errorf("failure %q does not say it rolled back for the broker check", r.Error)
	}
}
