package agent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"medagent/acquire/simbench"
	"medagent/tlsconf/tlstest"
	"medagent/trust/est/esttest"
	"medagent/trust/provision/pkitest"
)

// A device certificate inside the renewal window is renewed by EST over
// mutual TLS while the agent runs: the certificate file is replaced by one
// that chains to the manufacturer root and lasts longer.
func TestCertificateRenewedByEST(t *testing.T) {
	cfg := testConfig(t)
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(cfg.MQTT.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	root, err := pkitest.NewRoot("manufacturer root")
	if err != nil {
		t.Fatal(err)
	}
	factory, err := root.Factory("factory", pkitest.FactoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := factory.Device(key.Public(), cfg.Device.ID, pkitest.DeviceOptions{NotAfter: time.Now().Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cfg.MQTT.CertFile, pkitest.PEM(leaf, factory.Cert), 0o644)
	rootFile := filepath.Join(dir, "root.pem")
	os.WriteFile(rootFile, pkitest.PEM(root.Cert), 0o644)
	sca, err := tlstest.NewCA(t.TempDir(), "EST server CA")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := sca.Issue("est", tlstest.Options{Usage: tlstest.Server, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(sc.CertFile, sc.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(root.Cert)
	srv := esttest.New(factory, pair, pool)
	defer srv.Close()
	cfg.EST.URL, cfg.EST.CAFile, cfg.EST.RootFile = srv.URL, sca.CertFile, rootFile

	a, err := New(Options{Config: cfg, Role: RoleUplink, Logger: quiet, Bench: simbench.New})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(cfg.MQTT.CertFile)
		if blk, _ := pem.Decode(b); blk != nil {
			if c, err := x509.ParseCertificate(blk.Bytes); err == nil && c.NotAfter.After(leaf.NotAfter.Add(30*24*time.Hour)) {
				if err := c.CheckSignatureFrom(factory.Cert); err != nil {
					t.Fatalf("renewed certificate not signed by the factory CA: %v", err)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("certificate not renewed within 30 s; EST requests: %d", srv.Requests())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The uplink role never opens the acquire role's keyring (its user cannot
// read it): with commands enabled and the keyring unreadable it starts.
func TestUplinkRoleDoesNotLoadKeyring(t *testing.T) {
	cfg := testConfig(t)
	cfg.Commands.Enabled = true
	cfg.Commands.Keyring = filepath.Join(t.TempDir(), "acquire", "keyring.json")
	cfg.Commands.NonceFile = filepath.Join(t.TempDir(), "acquire", "nonces.json")
	a, err := New(Options{Config: cfg, Role: RoleUplink, Logger: quiet})
	if err != nil {
		t.Fatalf("uplink role with the acquire role's keyring out of reach: %v", err)
	}
	a.close()
}
