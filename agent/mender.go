package agent

import (
	"crypto"
	"errors"
	"fmt"
	"log/slog"

	"medagent/config"
	"medagent/handoff"
	"medagent/mender"
	"medagent/tlsconf"
	"medagent/trust/identity"
	"medagent/update/artifact"
	"medagent/version"
)

// newMender makes the Mender client of the uplink role, or nil when
// mender.server_url is not set. It signs with the device key: the
// TPM-held one (id) or mqtt.key_file.
func newMender(cfg config.Config, log *slog.Logger, id crypto.Signer, tlsOpts tlsconf.Options, hand *handoff.Producer) (*mender.Client, error) {
	m := cfg.Mender
	if m.ServerURL == "" {
		return nil, nil
	}
	if hand == nil {
		return nil, errors.New("mender: needs the hand-off (update.enabled)")
	}
	signer := id
	if signer == nil {
		// The key alone: a certificate not valid at the clock's time must
		// not stop the agent (the uplink waits for it instead).
		k, err := identity.LoadKeyFile(tlsOpts.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("mender: device key: %w", err)
		}
		signer = k
	}
	// The uplink checks artifacts early with update.keys only when they
	// are all the keys there are: with signed commands the keyring (which
	// acquire holds) may add rotated ones, and acquire verifies anyway.
	var keys []crypto.PublicKey
	if !cfg.Commands.Enabled && len(cfg.Update.Keys) > 0 {
		var err error
		if keys, err = artifact.LoadPublicKeys(cfg.Update.Keys...); err != nil {
			return nil, fmt.Errorf("mender: %w", err)
		}
	}
	return mender.New(mender.Options{
		ServerURL: m.ServerURL, TenantToken: m.TenantToken, Identity: m.Identity,
		IdentityInterface: m.IdentityInterface, SerialFile: m.SerialFile, CAFile: m.CAFile,
		PollInterval: m.PollInterval, InventoryInterval: m.InventoryInterval,
		RetryMin: m.RetryMin, RetryMax: m.RetryMax, MaxArtifactBytes: cfg.Handoff.MaxArtifactBytes,
		StateDir: m.StateDir,
	}, cfg.Device.ID, signer, keys, hand, rootfsDevice(cfg, hand), log)
}

// rootfsDevice is what the Mender server learns about the device: the
// running software as acquire publishes it in the hand-off.
func rootfsDevice(cfg config.Config, hand *handoff.Producer) *mender.RootfsDevice {
	d := &mender.RootfsDevice{DeviceType: cfg.Device.Type, Running: hand, ArtifactInfo: cfg.Mender.ArtifactInfo, Version: version.Version}
	for _, s := range cfg.Sensors {
		d.Sensors = append(d.Sensors, s.Name+":"+s.Driver)
	}
	return d
}
