package provision

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"medagent/internal/cmdline"
	"medagent/trust/provision/pkitest"
)

type pki struct {
	root, factory *pkitest.CA
	dev           crypto.Signer
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	root, err := pkitest.NewRoot("Medagent Test Root")
	if err != nil {
		t.Fatal(err)
	}
	f, err := root.Factory("Factory A", pkitest.FactoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return &pki{root: root, factory: f, dev: k}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestCSRAndInstall(t *testing.T) {
	p := newPKI(t)
	csr, err := CSR(p.dev, "MA-0001")
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(csr)
	req := must[*x509.CertificateRequest](t)(x509.ParseCertificateRequest(blk.Bytes))
	if req.Subject.CommonName != "MA-0001" || req.Subject.SerialNumber != "MA-0001" || req.CheckSignature() != nil {
		t.Fatalf("CSR subject %v", req.Subject)
	}
	if _, err := CSR(p.dev, "MA 0001/../x"); !errors.Is(err, ErrPolicy) {
		t.Fatalf("bad serial in CSR: %v", err)
	}
	leaf := must[*x509.Certificate](t)(p.factory.FromCSR(csr, pkitest.DeviceOptions{}))
	out := filepath.Join(t.TempDir(), "device.pem")
	got, err := Install(pkitest.PEM(leaf, p.factory.Cert), Options{Root: p.root.Cert, Public: p.dev.Public(), Serial: "MA-0001", CertFile: out})
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject.CommonName != "MA-0001" {
		t.Fatalf("installed %v", got.Subject)
	}
	b, _ := os.ReadFile(out)
	if !bytes.Equal(b, pkitest.PEM(leaf, p.factory.Cert)) {
		t.Fatal("installed file is not leaf + intermediate")
	}
}

func TestInstallRefusals(t *testing.T) {
	p := newPKI(t)
	pub := p.dev.Public()
	dev := func(ca *pkitest.CA, o pkitest.DeviceOptions) *x509.Certificate {
		return must[*x509.Certificate](t)(ca.Device(pub, "MA-0001", o))
	}
	now := time.Now()
	otherRoot := must[*pkitest.CA](t)(pkitest.NewRoot("Other Root"))
	otherFactory := must[*pkitest.CA](t)(otherRoot.Factory("Other Factory", pkitest.FactoryOptions{}))
	noPathLen := must[*pkitest.CA](t)(p.root.Factory("Loose Factory", pkitest.FactoryOptions{NoPathLen: true}))
	unconstrained := must[*pkitest.CA](t)(p.root.Factory("Open Factory", pkitest.FactoryOptions{Unconstrain: true}))
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := dev(p.factory, pkitest.DeviceOptions{})
	rootCRL := must[*x509.RevocationList](t)(x509.ParseRevocationList(must[[]byte](t)(p.root.CRL(p.factory.Cert))))
	leafCRL := must[*x509.RevocationList](t)(x509.ParseRevocationList(must[[]byte](t)(p.factory.CRL(good))))
	unrelatedCRL := must[*x509.RevocationList](t)(x509.ParseRevocationList(must[[]byte](t)(otherRoot.CRL(otherFactory.Cert))))

	cases := []struct {
		name  string
		chain []byte
		mod   func(o *Options)
		want  error
	}{
		{"expired", pkitest.PEM(dev(p.factory, pkitest.DeviceOptions{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)}), p.factory.Cert), nil, ErrExpired},
		{"not yet valid", pkitest.PEM(dev(p.factory, pkitest.DeviceOptions{NotBefore: now.Add(time.Hour)}), p.factory.Cert), nil, ErrNotYetValid},
		{"other CA", pkitest.PEM(dev(otherFactory, pkitest.DeviceOptions{}), otherFactory.Cert), nil, ErrUntrusted},
		{"no intermediate sent", pkitest.PEM(good), nil, ErrUntrusted},
		{"signed by the root directly", pkitest.PEM(dev(p.root, pkitest.DeviceOptions{})), nil, ErrPolicy},
		{"factory revoked by root CRL", pkitest.PEM(good, p.factory.Cert), func(o *Options) { o.CRLs = []*x509.RevocationList{rootCRL} }, ErrRevoked},
		{"device revoked by factory CRL", pkitest.PEM(good, p.factory.Cert), func(o *Options) { o.CRLs = []*x509.RevocationList{unrelatedCRL, leafCRL} }, ErrRevoked},
		{"stale CRL", pkitest.PEM(good, p.factory.Cert), func(o *Options) { o.CRLs = []*x509.RevocationList{leafCRL}; o.Now = now.Add(48 * time.Hour) }, ErrStaleCRL},
		{"server usage only", pkitest.PEM(dev(p.factory, pkitest.DeviceOptions{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}), p.factory.Cert), nil, ErrUsage},
		{"no EKU at all", pkitest.PEM(dev(p.factory, pkitest.DeviceOptions{ExtKeyUsage: []x509.ExtKeyUsage{}}), p.factory.Cert), nil, ErrUsage},
		{"other key", pkitest.PEM(must[*x509.Certificate](t)(p.factory.Device(otherKey.Public(), "MA-0001", pkitest.DeviceOptions{})), p.factory.Cert), nil, ErrKeyMismatch},
		{"other serial", pkitest.PEM(good, p.factory.Cert), func(o *Options) { o.Serial = "MA-0002" }, ErrPolicy},
		{"CN differs from SAN", pkitest.PEM(dev(p.factory, pkitest.DeviceOptions{CommonName: "MA-9999"}), p.factory.Cert), nil, ErrPolicy},
		{"SAN outside factory domain", pkitest.PEM(dev(p.factory, pkitest.DeviceOptions{DNSName: "ma-0001.evil.test"}), p.factory.Cert), nil, ErrUntrusted},
		{"factory without pathlen 0", pkitest.PEM(dev(noPathLen, pkitest.DeviceOptions{}), noPathLen.Cert), nil, ErrPolicy},
		{"factory without name constraints", pkitest.PEM(dev(unconstrained, pkitest.DeviceOptions{}), unconstrained.Cert), nil, ErrPolicy},
		{"not PEM", []byte("hello"), nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "device.pem")
			o := Options{Root: p.root.Cert, Public: pub, CertFile: out}
			if c.mod != nil {
				c.mod(&o)
			}
			_, err := Install(c.chain, o)
			if err == nil {
				t.Fatal("accepted")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Fatal("a refused certificate was written")
			}
		})
	}
	// The good one is accepted with the unrelated CRL present.
	if _, err := Check(pkitest.PEM(good, p.factory.Cert), Options{Root: p.root.Cert, Public: pub, CRLs: []*x509.RevocationList{unrelatedCRL}}); err != nil {
		t.Fatalf("good chain: %v", err)
	}
}

func TestCommandCSRAndInstall(t *testing.T) {
	p := newPKI(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "device.key")
	csrFile := filepath.Join(dir, "csr.pem")
	var out, errb bytes.Buffer
	if err := command(t.Context(), &out, &errb, []string{"csr", "--key", key, "--serial", "MA-0042", "-o", csrFile}); err != nil {
		t.Fatal(err, errb.String())
	}
	leaf := must[*x509.Certificate](t)(p.factory.FromCSR(must[[]byte](t)(os.ReadFile(csrFile)), pkitest.DeviceOptions{}))
	chainFile := filepath.Join(dir, "chain.pem")
	rootFile := filepath.Join(dir, "root.pem")
	crlFile := filepath.Join(dir, "root.crl")
	os.WriteFile(chainFile, pkitest.PEM(leaf, p.factory.Cert), 0o644)
	os.WriteFile(rootFile, pkitest.PEM(p.root.Cert), 0o644)
	os.WriteFile(crlFile, must[[]byte](t)(p.root.CRL()), 0o644)
	cert := filepath.Join(dir, "device.pem")
	args := []string{"install", "--root", rootFile, "--crl", crlFile, "--key", key, "--serial", "MA-0042", "-o", cert, chainFile}
	if err := command(t.Context(), &out, &errb, args); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "installed certificate for MA-0042") {
		t.Fatalf("output %q", out.String())
	}
	// Revoking the factory makes the same install fail.
	os.WriteFile(crlFile, must[[]byte](t)(p.root.CRL(p.factory.Cert)), 0o644)
	if err := command(t.Context(), &out, &errb, args); !errors.Is(err, ErrRevoked) {
		t.Fatalf("install with the factory revoked: %v", err)
	}
	if err := command(t.Context(), &out, &errb, []string{"csr", "--serial", "x", "-o", csrFile}); err == nil {
		t.Fatal("csr without key or tpm accepted")
	}
}

// command runs "medagent provision ARGS" as the command line would.
func command(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	return cmdline.Exec(ctx, Cmd().Sub(args[0]), args[1:], cmdline.IO{Stdout: stdout, Stderr: stderr})
}
