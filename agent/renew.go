package agent

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"

	"medagent/config"
	"medagent/tlsconf"
	"medagent/trust/est"
	"medagent/trust/identity"
)

// newRenewer builds the EST renewal loop of the uplink role, or returns nil
// when est.url is empty. signer is the TPM-held key, nil for a key file.
func newRenewer(cfg config.Config, signer crypto.Signer, log *slog.Logger) (*est.Renewer, error) {
	e, m := cfg.EST, cfg.MQTT
	if e.URL == "" {
		return nil, nil
	}
	if signer == nil {
		k, err := identity.LoadKeyFile(m.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("est: %w", err)
		}
		signer = k
	}
	root, err := readCert(e.RootFile)
	if err != nil {
		return nil, fmt.Errorf("est: manufacturer root: %w", err)
	}
	r, err := est.New(est.Options{
		URL: e.URL,
		TLS: func() (*tls.Config, error) {
			return tlsconf.Client(tlsconf.Options{CAFile: e.CAFile, CertFile: m.CertFile, Signer: signer})
		},
		Signer: signer, Root: root, Serial: cfg.Device.ID, CertFile: m.CertFile,
		Window: e.Window, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("est: %w", err)
	}
	return r, nil
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return x509.ParseCertificate(blk.Bytes)
}
