package est_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"medagent/tlsconf"
	"medagent/tlsconf/tlstest"
	"medagent/trust/est"
	"medagent/trust/est/esttest"
	"medagent/trust/provision/pkitest"
)

type env struct {
	srv      *esttest.Server
	root     *pkitest.CA
	key      crypto.Signer
	chain    string
	tlsCA    string
	original []byte
}

func setup(t *testing.T, validFor time.Duration) *env {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return setupKey(t, validFor, key)
}

func setupKey(t *testing.T, validFor time.Duration, key crypto.Signer) *env {
	t.Helper()
	root, err := pkitest.NewRoot("root")
	if err != nil {
		t.Fatal(err)
	}
	factory, err := root.Factory("factory", pkitest.FactoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := factory.Device(key.Public(), "MA-0001", pkitest.DeviceOptions{NotAfter: time.Now().Add(validFor)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	e := &env{root: root, key: key, chain: filepath.Join(dir, "device.pem"), original: pkitest.PEM(leaf, factory.Cert)}
	os.WriteFile(e.chain, e.original, 0o644)

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
	e.srv = esttest.New(factory, pair, pool)
	t.Cleanup(e.srv.Close)
	e.tlsCA = sca.CertFile
	return e
}

func (e *env) renewer(t *testing.T) *est.Renewer {
	t.Helper()
	r, err := est.New(est.Options{
		URL: e.srv.URL,
		TLS: func() (*tls.Config, error) {
			return tlsconf.Client(tlsconf.Options{CAFile: e.tlsCA, CertFile: e.chain, Signer: e.key})
		},
		Signer: e.key, Root: e.root.Cert, Serial: "MA-0001", CertFile: e.chain,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func run(t *testing.T, r *est.Renewer) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run after cancel: %v, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	}
}

func waitFor(t *testing.T, what string, r *est.Renewer, ok func(est.Status) bool) est.Status {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := r.Status()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; status %+v", what, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRenewsWithinWindowAfterFailures(t *testing.T) {
	e := setup(t, 10*24*time.Hour)
	e.srv.FailNext(1000)
	r := e.renewer(t)
	stop := run(t, r)
	defer stop()
	waitFor(t, "3 failures", r, func(s est.Status) bool { return s.Failures >= 3 })
	if b, _ := os.ReadFile(e.chain); !bytes.Equal(b, e.original) {
		t.Fatal("the certificate file changed although renewal failed")
	}
	if st := r.Status(); !strings.Contains(st.LastError, "503") {
		t.Fatalf("last error %q does not name the HTTP status", st.LastError)
	}
	e.srv.FailNext(0)
	st := waitFor(t, "success", r, func(s est.Status) bool { return !s.LastSuccess.IsZero() })
	if st.Failures != 0 || time.Until(st.NotAfter) < 80*24*time.Hour {
		t.Fatalf("status after renewal %+v", st)
	}
	b, _ := os.ReadFile(e.chain)
	certs, _ := x509.ParseCertificates(pemToDER(b))
	if len(certs) != 2 || !certs[0].NotAfter.Equal(st.NotAfter) {
		t.Fatalf("installed chain has %d certs", len(certs))
	}
	n := e.srv.Requests()
	time.Sleep(50 * time.Millisecond)
	if e.srv.Requests() != n {
		t.Fatal("renewer keeps calling the server after a successful renewal")
	}
}

func TestRefusesCertificateForAnotherKey(t *testing.T) {
	e := setup(t, 10*24*time.Hour)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	e.srv.Issue = func(req *x509.CertificateRequest) (*x509.Certificate, error) {
		return e.srv.CA.Device(other.Public(), "MA-0001", pkitest.DeviceOptions{})
	}
	r := e.renewer(t)
	stop := run(t, r)
	defer stop()
	st := waitFor(t, "a failure", r, func(s est.Status) bool { return s.Failures >= 1 })
	if !strings.Contains(st.LastError, "device key") {
		t.Fatalf("last error %q", st.LastError)
	}
	if b, _ := os.ReadFile(e.chain); !bytes.Equal(b, e.original) {
		t.Fatal("a certificate for another key was installed")
	}
}

func TestDoesNotRenewEarly(t *testing.T) {
	e := setup(t, 60*24*time.Hour)
	r := e.renewer(t)
	stop := run(t, r)
	st := waitFor(t, "first check", r, func(s est.Status) bool { return !s.NextCheck.IsZero() })
	stop()
	if e.srv.Requests() != 0 {
		t.Fatalf("%d requests for a certificate valid 60 more days", e.srv.Requests())
	}
	if time.Until(st.NextCheck) < time.Hour {
		t.Fatalf("next check %s is too soon", st.NextCheck)
	}
}

func pemToDER(b []byte) []byte {
	var out []byte
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return out
		}
		out = append(out, blk.Bytes...)
	}
}
