package agent

import (
	"context"
	"crypto"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"medagent/config"
	"medagent/trust/datakey"
	medupdate "medagent/update"
	"medagent/update/artifact"
	"medagent/update/bootenv"
	"medagent/update/engine"
	"medagent/update/slot"
	"medagent/update/source"
)

// updater owns the update engine. At every start it resumes whatever the
// journal says (after the trial boot: verify, health check, commit or roll
// back); installs come from the technician shell or signed commands.
type updater struct {
	e   *engine.Engine
	log *slog.Logger
}

// newUpdater builds the engine. Artifacts must be signed by one of
// update.keys or, when ringKeys is not nil, by one of the keyring's update
// keys as they are at the time of the install (so a signed key rotation
// takes effect without a restart).
func newUpdater(u config.Update, deviceType, tpm string, log *slog.Logger, monitoring func() bool, health []engine.Check, ringKeys func() []crypto.PublicKey, audit func(string, map[string]string)) (*updater, error) {
	cfg, err := bootenv.ReadConfigFile(u.FWEnvConfig)
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	env, err := bootenv.NewUBoot(cfg)
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	var pub []crypto.PublicKey
	if len(u.Keys) > 0 {
		if pub, err = artifact.LoadPublicKeys(u.Keys...); err != nil {
			return nil, fmt.Errorf("update: %w", err)
		}
	}
	keyFile := u.StateKey
	if keyFile == "" {
		keyFile = engine.StateKeyFile(u.Journal)
	}
	stateKey, err := datakey.Load(datakey.Options{TPM: tpm, File: keyFile, Private: true})
	if err != nil {
		return nil, fmt.Errorf("update: state key: %w", err)
	}
	fl, err := engine.OpenFloor(tpm, u.Journal, stateKey)
	if err != nil {
		return nil, fmt.Errorf("update: version floor: %w", err)
	}
	var client *http.Client // nil: https installs refused (no trust anchors)
	if u.CAFile != "" {
		if client, err = source.HTTPClient(source.HTTPOptions{CAFile: u.CAFile, RedirectHosts: u.RedirectHosts}); err != nil {
			return nil, fmt.Errorf("update: %w", err)
		}
	}
	e, err := engine.New(engine.Options{
		Journal:     u.Journal,
		JournalKey:  engine.JournalKey(stateKey),
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
			v := engine.Verification{Keys: keys, DeviceType: deviceType, MaxWindow: u.MaxWindow, RequireChunks: u.RequireChunks}
			return engine.Opener(v)(r, req)
		},
		ScriptsDir: u.ScriptsDir,
		Health:     health,
		Monitoring: monitoring,
		Logger:     log,
		Reboot:     medupdate.RebootFunc(u.RebootCommand),
	})
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	return &updater{e: e, log: log}, nil
}

// Run resumes the journal once and then waits; a failed update is logged
// (the journal keeps why) and never stops monitoring.
func (u *updater) Run(ctx context.Context) error {
	if err := u.e.Resume(ctx); err != nil && ctx.Err() == nil {
		u.log.Error("update resume failed", "err", err, "state", string(u.e.Status().State))
	}
	<-ctx.Done()
	return nil
}

// patientWatch is what the update engine asks of acquisition: the
// clinical-use lock and the sensors' health after a trial boot.
type patientWatch interface {
	Monitoring(grace time.Duration) bool
	SensorsUp(names []string) error
}

// newUpdaterFor wires the engine to this agent: the clinical lock asks
// acquisition whether a patient is monitored, and the health checks after
// a trial boot wait for every sensor and for the broker: brokerUp reads
// the state the uplink keeps in the hand-off, the same in every role (no
// hook script). ringKeys, when not nil, adds the keyring's update keys to
// update.keys.
func newUpdaterFor(cfg config.Config, log *slog.Logger, patient patientWatch, brokerUp func() error, ringKeys func() []crypto.PublicKey, audit func(string, map[string]string)) (*updater, error) {
	u := cfg.Update
	var names []string
	for _, s := range cfg.Sensors {
		names = append(names, s.Name)
	}
	health := []engine.Check{engine.SensorsUp(engine.Poll("sensors", func() error { return patient.SensorsUp(names) }), u.HealthTimeout)}
	if brokerUp != nil {
		health = append(health, engine.BrokerReachable(engine.Poll("broker", brokerUp), u.HealthTimeout))
	}
	monitoring := func() bool { return patient.Monitoring(u.MonitoringGrace) }
	return newUpdater(u, cfg.Device.Type, cfg.Trust.TPM, log, monitoring, health, ringKeys, audit)
}
