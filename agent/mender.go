package agent

import (
	"bufio"
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

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
	}, cfg.Device.ID, signer, keys, hand, &menderDevice{cfg: cfg}, log)
}

// menderDevice is what the Mender server learns about the device: its type
// from the configuration, the running artifact from the rootfs's
// artifact_info (the uplink cannot read acquire's update journal), and the
// hardware from /proc and /sys.
type menderDevice struct{ cfg config.Config }

func (d *menderDevice) Provides() (map[string]string, error) {
	b, err := os.ReadFile(d.cfg.Mender.ArtifactInfo)
	if err != nil {
		return nil, fmt.Errorf("running artifact unknown: %w (mender.artifact_info)", err)
	}
	p := map[string]string{"device_type": d.cfg.Device.Type}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok && !strings.HasPrefix(k, "#") {
			p[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if p["artifact_name"] == "" {
		return nil, fmt.Errorf("%s has no artifact_name", d.cfg.Mender.ArtifactInfo)
	}
	return p, nil
}

func (d *menderDevice) Inventory() ([]mender.Attribute, error) {
	p, err := d.Provides()
	if err != nil {
		return nil, err
	}
	attrs := []mender.Attribute{
		{Name: "device_type", Value: p["device_type"]},
		{Name: "artifact_name", Value: p["artifact_name"]},
		{Name: "medagent_version", Value: version.Version},
	}
	for _, f := range []struct{ name, path string }{
		{"kernel", "/proc/sys/kernel/osrelease"},
		{"board", "/proc/device-tree/model"},
		{"board", "/sys/class/dmi/id/product_name"},
	} {
		if b, err := os.ReadFile(f.path); err == nil {
			attrs = append(attrs, mender.Attribute{Name: f.name, Value: strings.TrimSpace(strings.TrimRight(string(b), "\x00"))})
			if f.name == "board" {
				break
			}
		}
	}
	var sensors []string
	for _, s := range d.cfg.Sensors {
		sensors = append(sensors, s.Name+":"+s.Driver)
	}
	if len(sensors) > 0 {
		attrs = append(attrs, mender.Attribute{Name: "sensors", Value: sensors})
	}
	return attrs, nil
}
