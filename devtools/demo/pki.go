package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"

	"medagent/tlsconf/tlstest"
)

// pkiFiles are the demo's throwaway PKI and spool key: made fresh for every
// run, never committed, never used outside the demo.
type pkiFiles struct {
	CA, BrokerCert, BrokerKey, DeviceCert, DeviceKey, SpoolKey string
}

func writePKI(dir, deviceID string) (pkiFiles, error) {
	if err := os.RemoveAll(dir); err != nil {
		return pkiFiles{}, err
	}
	if _, err := tlstest.WritePKI(dir, deviceID); err != nil {
		return pkiFiles{}, fmt.Errorf("dev PKI: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return pkiFiles{}, err
	}
	p := pkiFiles{
		CA:         filepath.Join(dir, tlstest.CAFile),
		BrokerCert: filepath.Join(dir, tlstest.BrokerCertFile),
		BrokerKey:  filepath.Join(dir, tlstest.BrokerKeyFile),
		DeviceCert: filepath.Join(dir, tlstest.DeviceCertFile),
		DeviceKey:  filepath.Join(dir, tlstest.DeviceKeyFile),
		SpoolKey:   filepath.Join(dir, "spool.key"),
	}
	return p, os.WriteFile(p.SpoolKey, key, 0o600)
}
