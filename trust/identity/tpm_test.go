package identity

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"

	"medagent/tlsconf"
	"medagent/tlsconf/tlstest"
	"medagent/trust/internal/swtpmtest"
	"medagent/trust/internal/tpmio"
)

func openSim(t *testing.T, sim *swtpmtest.Sim) *Identity {
	t.Helper()
	id, err := Open(Options{TPM: sim.Path})
	if err != nil {
		t.Fatal(err)
	}
	if id.Backend != "tpm" {
		t.Fatalf("backend %q, want tpm", id.Backend)
	}
	return id
}

func TestTPMKeySignsAndSurvivesRestart(t *testing.T) {
	state := filepath.Join(t.TempDir(), "tpm")
	sim := swtpmtest.Start(t, state)
	id := openSim(t, sim)
	pub := id.Public().(*ecdsa.PublicKey)

	d := sha256.Sum256([]byte("measurement"))
	sig, err := id.Sign(rand.Reader, d[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(pub, d[:], sig) {
		t.Fatal("TPM SHA-256 signature does not verify")
	}
	d384 := sha512.Sum384([]byte("measurement"))
	if sig, err = id.Sign(rand.Reader, d384[:], crypto.SHA384); err != nil || !ecdsa.VerifyASN1(pub, d384[:], sig) {
		t.Fatalf("TPM SHA-384 signature: %v", err)
	}
	if _, err := id.Sign(rand.Reader, d[:16], crypto.SHA256); err == nil {
		t.Fatal("short digest signed")
	}
	id.Close()

	// Power-cycle the TPM: the key is still at its handle.
	sim.Stop()
	sim = swtpmtest.Start(t, state)
	id2 := openSim(t, sim)
	defer id2.Close()
	if !pub.Equal(id2.Public()) {
		t.Fatal("key changed across a TPM restart")
	}
	if sig, err = id2.Sign(rand.Reader, d[:], crypto.SHA256); err != nil || !ecdsa.VerifyASN1(pub, d[:], sig) {
		t.Fatalf("signature after restart: %v", err)
	}
}

func TestTPMRefusesForeignObjectAtHandle(t *testing.T) {
	sim := swtpmtest.Start(t, filepath.Join(t.TempDir(), "tpm"))
	tp, err := tpmio.Open(sim.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	cp, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHOwner, InPublic: tpm2.New2B(tpm2.ECCSRKTemplate)}.Execute(tp)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tpm2.EvictControl{Auth: tpm2.TPMRHOwner, ObjectHandle: &tpm2.NamedHandle{Handle: cp.ObjectHandle, Name: cp.Name}, PersistentHandle: tpm2.TPMHandle(DefaultHandle)}.Execute(tp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenTPMKey(tp, DefaultHandle); err == nil {
		t.Fatal("a storage key at the identity handle was used as the device key")
	}
}

// TestTPMKeyMutualTLS runs real TLS 1.2 and 1.3 handshakes in which the
// client's CertificateVerify is signed by the TPM.
func TestTPMKeyMutualTLS(t *testing.T) {
	sim := swtpmtest.Start(t, filepath.Join(t.TempDir(), "tpm"))
	id := openSim(t, sim)
	defer id.Close()

	dir := t.TempDir()
	ca, err := tlstest.NewCA(dir, "test root")
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.Issue("broker", tlstest.Options{Usage: tlstest.Server, DNSNames: []string{"broker.test"}})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "MA-0001"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, id.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(dir, "device.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)

	srvCert, err := tls.LoadX509KeyPair(server.CertFile, server.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cc, err := tlsconf.Client(tlsconf.Options{CAFile: ca.CertFile, CertFile: certFile, Signer: id, ServerName: "broker.test"})
		if err != nil {
			t.Fatal(err)
		}
		c, s := net.Pipe()
		srv := tls.Server(s, &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MaxVersion: v})
		errc := make(chan error, 1)
		go func() { errc <- srv.Handshake() }()
		cli := tls.Client(c, cc)
		if err := cli.Handshake(); err != nil {
			t.Fatalf("TLS %#x client handshake: %v", v, err)
		}
		if err := <-errc; err != nil {
			t.Fatalf("TLS %#x server handshake: %v", v, err)
		}
		st := srv.ConnectionState()
		if st.Version != v || len(st.PeerCertificates) == 0 || st.PeerCertificates[0].Subject.CommonName != "MA-0001" {
			t.Fatalf("TLS %#x: server saw version %#x, peer %v", v, st.Version, st.PeerCertificates)
		}
		c.Close() // not cli.Close: close_notify on an unread pipe waits 5 s
		s.Close()
	}
}
