package agent

import (
	"crypto"
	"crypto/tls"
	"fmt"
	"log/slog"

	"medagent/config"
	"medagent/tlsconf"
	"medagent/trust/est"
	"medagent/trust/identity"
	"medagent/trust/provision"
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
	root, err := provision.ReadRoot(e.RootFile)
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
