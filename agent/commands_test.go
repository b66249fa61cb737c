package agent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"medagent/acquire/simbench"
	"medagent/trust/command"
	"medagent/trust/keyring"
	"medagent/uplink/mosquittotest"
)

// Signed commands through a real mosquitto, with the roles split into two
// agents (the uplink forwards, acquire verifies with its own keyring and
// spools the result) and in one process (the same path): a valid command
// is obeyed once; a replay, one for another device, one signed by an
// unknown key and a tampered one are refused, each reported on cmd-result.
func TestSignedCommandsOverMQTT(t *testing.T) {
	for _, split := range []bool{true, false} {
		name := map[bool]string{true: "split roles", false: "role all"}[split]
		t.Run(name, func(t *testing.T) { testSignedCommands(t, split) })
	}
}

func testSignedCommands(t *testing.T, split bool) {
	cfg := testConfig(t)
	pki := filepath.Dir(cfg.MQTT.CAFile)
	b := mosquittotest.Start(t, pki)
	cfg.MQTT.Broker = b.URL
	cfg.MQTT.ServerName = "localhost"
	dir := t.TempDir()
	ops, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&ops.PublicKey)
	upd, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	uder, _ := x509.MarshalPKIXPublicKey(&upd.PublicKey)
	cfg.Commands.Enabled = true
	cfg.Commands.Keyring = filepath.Join(dir, "keyring.json")
	cfg.Commands.NonceFile = filepath.Join(dir, "nonces.json")
	if _, err := keyring.Create(cfg.Commands.Keyring, []keyring.Key{{ID: "ops", PublicKey: der}}, []keyring.Key{{ID: "rel", PublicKey: uder}}); err != nil {
		t.Fatal(err)
	}
	mon := mosquittotest.Subscribe(t, b, pki, "medagent/v1/+/cmd-result", mosquittotest.MonitorOptions{})
	roles := []Role{RoleAll}
	if split {
		roles = []Role{RoleAcquire, RoleUplink}
	}
	for _, r := range roles {
		c := cfg
		if r == RoleUplink {
			// The uplink user cannot read the acquire role's keyring and
			// nonces: it never needs them.
			c.Commands.Keyring, c.Commands.NonceFile = "/nonexistent/keyring.json", "/nonexistent/nonces.json"
		}
		a, err := New(Options{Config: c, Role: r, Logger: quiet, Bench: simbench.New})
		if err != nil {
			t.Fatalf("role %s: %v", r, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		defer func() { cancel(); <-done }()
	}
	sign := func(device string, key *ecdsa.PrivateKey, keyID string) []byte {
		now := time.Now()
		e := &command.Envelope{V: command.Version, Device: device, Name: command.Diagnostics,
			IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Minute).Unix(), Nonce: command.NewNonce()}
		if err := command.Sign(e, keyID, key); err != nil {
			t.Fatal(err)
		}
		return e.Marshal()
	}
	// A command published before the uplink has subscribed is lost: probe
	// with commands signed by an unknown key (refused, no side effect)
	// until one is answered; from then on the subscription holds.
	probes := map[string]bool{}
	answered := func(ms []mosquittotest.Message) bool {
		for _, m := range ms {
			var r command.Result
			if json.Unmarshal(m.Payload, &r) == nil && probes[r.Nonce] {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(20 * time.Second); !answered(mon.Messages()); {
		if time.Now().After(deadline) {
			t.Fatal("no probe command answered in 20 s: the uplink never subscribed")
		}
		p := sign("MA-T", stranger, "ops")
		e, _ := command.Decode(p)
		probes[base64.StdEncoding.EncodeToString(e.Nonce)] = true
		mon.Publish(t, "medagent/v1/MA-T/cmd/x", p)
		mon.WaitUntil(500*time.Millisecond, answered)
	}
	valid := sign("MA-T", ops, "ops")
	tampered := []byte(strings.Replace(string(sign("MA-T", ops, "ops")), `"diagnostics"`, `"reboot"`, 1))
	sent := [][]byte{valid, valid, sign("MA-OTHER", ops, "ops"), sign("MA-T", stranger, "ops"), tampered}
	nonces := map[string]int{}
	for i, p := range sent {
		e, _ := command.Decode(p)
		if _, ok := nonces[base64.StdEncoding.EncodeToString(e.Nonce)]; !ok {
			nonces[base64.StdEncoding.EncodeToString(e.Nonce)] = i
		}
		mon.Publish(t, "medagent/v1/MA-T/cmd/x", p)
	}
	ours := func(ms []mosquittotest.Message) (out []command.Result) {
		for _, m := range ms {
			var r command.Result
			if err := json.Unmarshal(m.Payload, &r); err != nil {
				t.Fatalf("result %q: %v", m.Payload, err)
			}
			if !probes[r.Nonce] {
				out = append(out, r)
			}
		}
		return out
	}
	msgs := ours(mon.WaitFor(t, 20*time.Second, "5 results", func(ms []mosquittotest.Message) bool { return len(ours(ms)) >= len(sent) }))
	// The uplink answers its own refusals at once, acquire's results come
	// through the spool: compare per command, not in arrival order.
	var got []string
	for _, r := range msgs {
		i, ok := nonces[r.Nonce]
		if !ok {
			t.Fatalf("result %+v names no command sent", r)
		}
		got = append(got, fmt.Sprintf("%d:%s/%s", i, r.Status, r.Code))
	}
	sort.Strings(got)
	want := []string{"0:done/", "0:refused/replay", "2:refused/wrong-device", "3:refused/bad-signature", "4:refused/bad-signature"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("results %v, want %v", got, want)
	}
}
