package provision

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"medagent/trust/identity"
	"medagent/trust/internal/swtpmtest"
	"medagent/trust/provision/pkitest"
)

// TestCommandWithTPM provisions a TPM-held key end to end: CSR signed in
// the TPM, certificate issued by the factory CA, installed after checking
// it holds the TPM's key; a chain for another key is refused.
func TestCommandWithTPM(t *testing.T) {
	p := newPKI(t)
	sim := swtpmtest.Start(t, filepath.Join(t.TempDir(), "tpm"))
	dir := t.TempDir()
	csrFile := filepath.Join(dir, "csr.pem")
	var out, errb bytes.Buffer
	if err := command(t.Context(), &out, &errb, []string{"csr", "--tpm", sim.Path, "--serial", "MA-0007", "-o", csrFile}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "(tpm key)") {
		t.Fatalf("output %q does not say the key is in the TPM", out.String())
	}
	leaf := must[*x509.Certificate](t)(p.factory.FromCSR(must[[]byte](t)(os.ReadFile(csrFile)), pkitest.DeviceOptions{}))
	id, err := identity.Open(identity.Options{TPM: sim.Path})
	if err != nil {
		t.Fatal(err)
	}
	if !id.Public().(*ecdsa.PublicKey).Equal(leaf.PublicKey) {
		t.Fatal("certificate does not hold the TPM key")
	}
	id.Close()
	rootFile := filepath.Join(dir, "root.pem")
	os.WriteFile(rootFile, pkitest.PEM(p.root.Cert), 0o644)
	chainFile := filepath.Join(dir, "chain.pem")
	os.WriteFile(chainFile, pkitest.PEM(leaf, p.factory.Cert), 0o644)
	cert := filepath.Join(dir, "device.pem")
	if err := command(t.Context(), &out, &errb, []string{"install", "--root", rootFile, "--tpm", sim.Path, "-o", cert, chainFile}); err != nil {
		t.Fatal(err)
	}
	other := must[*x509.Certificate](t)(p.factory.Device(p.dev.Public(), "MA-0007", pkitest.DeviceOptions{}))
	os.WriteFile(chainFile, pkitest.PEM(other, p.factory.Cert), 0o644)
	err = command(t.Context(), &out, &errb, []string{"install", "--root", rootFile, "--tpm", sim.Path, "-o", cert, chainFile})
	if !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("chain for a non-TPM key: %v, want ErrKeyMismatch", err)
	}
}
