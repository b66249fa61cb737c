package provision

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"medagent/trust/provision/pkitest"
)

// FuzzCheck feeds arbitrary chains to Check: it must never panic, and must
// never accept a chain not issued by the test factory for the device key.
func FuzzCheck(f *testing.F) {
	root, err := pkitest.NewRoot("root")
	if err != nil {
		f.Fatal(err)
	}
	fac, err := root.Factory("factory", pkitest.FactoryOptions{})
	if err != nil {
		f.Fatal(err)
	}
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf, err := fac.Device(k.Public(), "MA-0001", pkitest.DeviceOptions{})
	if err != nil {
		f.Fatal(err)
	}
	expired, _ := fac.Device(k.Public(), "MA-0001", pkitest.DeviceOptions{NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	good := pkitest.PEM(leaf, fac.Cert)
	f.Add(good)
	f.Add(pkitest.PEM(expired, fac.Cert))
	f.Add(pkitest.PEM(leaf))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("hello"))
	o := Options{Root: root.Cert, Public: k.Public()}
	f.Fuzz(func(t *testing.T, b []byte) {
		chain, err := Check(b, o)
		if err != nil {
			if errors.Is(err, ErrRevoked) {
				t.Fatalf("revoked without CRLs: %v", err)
			}
			return
		}
		if !chain[0].Equal(leaf) || !chain[1].Equal(fac.Cert) {
			t.Fatal("accepted a chain that is not the issued one")
		}
	})
}
