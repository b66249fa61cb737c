package agent

import (
	"cmp"
	"crypto"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"medagent/config"
	medupdate "medagent/update"
	"medagent/update/artifact"
	"medagent/update/bootenv"
	"medagent/update/engine"
	"medagent/update/slot"
	"medagent/update/source"
)

// patientWatch is what the update engine asks of acquisition: the
// clinical-use lock and the sensors' health after a trial boot.
type patientWatch interface {
	Monitoring(grace time.Duration) bool
	SensorsUp(names []string) error
}

// newUpdater builds the update engine of the acquire role. Artifacts must
// be signed by one of update.keys or, when ringKeys is not nil, by one of
// the keyring's update keys as they are at the time of the install (so a
// signed key rotation takes effect without a restart). The clinical lock
// asks acquisition whether a patient is monitored; the health checks after
// a trial boot wait for every sensor and for the broker (brokerUp reads
// the state the uplink keeps in the hand-off, the same in every role).
func newUpdater(cfg config.Config, log *slog.Logger, patient patientWatch, brokerUp func() error, ringKeys func() []crypto.PublicKey, audit func(string, map[string]string)) (*engine.Engine, error) {
	u := cfg.Update
	bc, err := bootenv.ReadConfigFile(u.FWEnvConfig)
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	env, err := bootenv.NewUBoot(bc)
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	var pub []crypto.PublicKey
	if len(u.Keys) > 0 {
		if pub, err = artifact.LoadPublicKeys(u.Keys...); err != nil {
			return nil, fmt.Errorf("update: %w", err)
		}
	}
	stateKey, err := loadStateKey(cfg)
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	fl, err := engine.OpenFloor(cfg.Trust.TPM, u.Journal, stateKey)
	if err != nil {
		return nil, fmt.Errorf("update: version floor: %w", err)
	}
	var client *http.Client // nil: https installs refused (no trust anchors)
	if u.CAFile != "" {
		if client, err = source.HTTPClient(source.HTTPOptions{CAFile: u.CAFile, RedirectHosts: u.RedirectHosts}); err != nil {
			return nil, fmt.Errorf("update: %w", err)
		}
	}
	var names []string
	for _, s := range cfg.Sensors {
		names = append(names, s.Name)
	}
	health := []engine.Check{engine.SensorsUp(engine.Poll("sensors", func() error { return patient.SensorsUp(names) }), u.HealthTimeout)}
	if brokerUp != nil {
		health = append(health, engine.BrokerReachable(engine.Poll("broker", brokerUp), u.HealthTimeout))
	}
	e, err := engine.New(engine.Options{
		Journal:     u.Journal,
		JournalKey:  engine.JournalKey(stateKey),
		Counter:     engine.OpenJournalCounter(cfg.Trust.TPM),
		Floor:       fl,
		Audit:       audit,
		HTTPClient:  client,
		DownloadDir: u.DownloadDir,
		Env:         env,
		Slots:       slot.Config{A: slot.Slot{Device: u.SlotA, Part: u.PartA}, B: slot.Slot{Device: u.SlotB, Part: u.PartB}, CmdlinePath: u.Cmdline},
		Open: func(r io.Reader, req engine.OpenRequest) (engine.Artifact, error) {
			keys := pub
			if ringKeys != nil {
				keys = append(slices.Clip(pub), ringKeys()...)
			}
			v := engine.Verification{Keys: keys, DeviceType: cfg.Device.Type, MaxWindow: u.MaxWindow, RequireChunks: u.RequireChunks}
			return engine.Opener(v)(r, req)
		},
		ScriptsDir: u.ScriptsDir,
		Health:     health,
		Monitoring: func() bool { return patient.Monitoring(u.MonitoringGrace) },
		Logger:     log,
		Reboot:     medupdate.RebootFunc(u.RebootCommand),
		// update.reboot_retries 0 means none (the engine's 0 is its default).
		RebootTimeout: u.RebootTimeout,
		RebootRetries: cmp.Or(u.RebootRetries, -1),
	})
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	return e, nil
}
