package agent

import (
	"fmt"
	"log/slog"
	"time"

	"medagent/config"
	"medagent/handoff"
	"medagent/internal/authfile"
	"medagent/remote"
	"medagent/trust/floor"
	"medagent/update"
	"medagent/update/engine"
)

// handoffOptions locate the hand-off for either side.
func handoffOptions(cfg config.Config, log *slog.Logger, now func() time.Time) handoff.Options {
	h := cfg.Handoff
	return handoff.Options{Dir: h.Dir, StateDir: h.StateDir, MaxArtifactBytes: h.MaxArtifactBytes, Logger: log, Now: now}
}

// newRemote builds the acquire side of the hand-off: signed commands are
// verified with acquire's own keyring and nonce store (commands.*), and
// artifacts installed by the update engine (nil without update.enabled).
func newRemote(cfg config.Config, log *slog.Logger, now func() time.Time, acq *acquireSide, upd *engine.Engine, audit func(string, map[string]string)) (*remote.Service, error) {
	o := remote.Options{
		Audit:    audit,
		DeviceID: cfg.Device.ID,
		Handoff:  handoffOptions(cfg, log, now),
		Spool:    acq.spool,
		Patient:  acq.acq,
		Grace:    cfg.Update.MonitoringGrace,
		Reboot:   update.RebootFunc(cfg.Update.RebootCommand),
		Logger:   log,
		Now:      now,
		// The running software for the uplink's Mender client: the update
		// journal's, else the root file system's artifact_info.
		ArtifactInfo: cfg.Mender.ArtifactInfo,
	}
	if cfg.Commands.Enabled {
		o.Keyring, o.NonceFile = cfg.Commands.Keyring, cfg.Commands.NonceFile
		// The keyring's sealed copy is authenticated with a key derived
		// from the state key; without it the keyring is refused (commands
		// refused, monitoring goes on).
		if k, err := loadStateKey(cfg); err != nil {
			log.Error("keyring cannot be authenticated: signed commands are refused", "err", err)
		} else {
			o.KeyringKey = authfile.DeriveKey(k, "keyring")
		}
		if kf := floor.OpenKeyringFloor(cfg.Trust.TPM); kf != nil {
			o.KeyringAnchor = kf
		}
	}
	if upd != nil {
		o.Updates = upd
	}
	r, err := remote.New(o)
	if err != nil {
		return nil, fmt.Errorf("hand-off: %w", err)
	}
	return r, nil
}
