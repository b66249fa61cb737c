package agent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"medagent/acquire/simbench"
	"medagent/trust/command"
	"medagent/trust/keyring"
	"medagent/uplink/mosquittotest"
)

// Signed commands through a real mosquitto: a valid one is obeyed once;
// a replay, one for another device, one signed by an unknown key and a
// tampered one are refused and reported on cmd-result.
func TestSignedCommandsOverMQTT(t *testing.T) {
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
	a, err := New(Options{Config: cfg, Role: RoleAll, Logger: quiet, Bench: simbench.New})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for !a.up.up.Status().Connected {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // the subscription follows the connect

	sign := func(device string, key *ecdsa.PrivateKey, keyID string) []byte {
		now := time.Now()
		e := &command.Envelope{V: command.Version, Device: device, Name: command.Diagnostics,
			IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Minute).Unix(), Nonce: command.NewNonce()}
		if err := command.Sign(e, keyID, key); err != nil {
			t.Fatal(err)
		}
		return e.Marshal()
	}
	valid := sign("MA-T", ops, "ops")
	tampered := []byte(strings.Replace(string(sign("MA-T", ops, "ops")), `"diagnostics"`, `"reboot"`, 1))
	sent := [][]byte{valid, valid, sign("MA-OTHER", ops, "ops"), sign("MA-T", stranger, "ops"), tampered}
	for _, p := range sent {
		mon.Publish(t, "medagent/v1/MA-T/cmd/x", p)
	}
	msgs := mon.WaitFor(t, 20*time.Second, "5 results", func(ms []mosquittotest.Message) bool { return len(ms) >= len(sent) })
	var got []string
	for _, m := range msgs {
		var r command.Result
		if err := json.Unmarshal(m.Payload, &r); err != nil {
			t.Fatalf("result %q: %v", m.Payload, err)
		}
		got = append(got, r.Status+"/"+r.Code)
	}
	want := []string{"done/", "refused/replay", "refused/wrong-device", "refused/bad-signature", "refused/bad-signature"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("results %v, want %v", got, want)
	}
}
