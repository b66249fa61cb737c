package agent

import (
	"fmt"
	"log/slog"
	"time"

	"medagent/acquire"
	"medagent/config"
	"medagent/spool"
	"medagent/trust/datakey"
)

// acquireSide is the acquire role: the spool writer and the acquisition
// that fills it. It has no network.
type acquireSide struct {
	spool *spool.Writer
	acq   *acquire.Acquisition
}

func newAcquireSide(cfg config.Config, log *slog.Logger, now func() time.Time, bench acquire.NewBench) (*acquireSide, error) {
	o, err := spoolOptions(cfg, log)
	if err != nil {
		return nil, err
	}
	if o.Key == nil {
		log.Warn("spool encryption is off (spool.key_file is empty): for the bench only")
	}
	w, err := spool.OpenWriter(o)
	if err != nil {
		return nil, err
	}
	acq, err := acquire.New(acquire.Options{
		Sensors: cfg.Sensors, Sim: cfg.Sim, Edge: cfg.Edge, Alarms: cfg.Alarms,
		Bench: bench, Spool: w, Logger: log, Now: now,
		Realtime: acquire.Realtime{Priority: cfg.Realtime.Priority, LockMemory: cfg.Realtime.LockMemory},
	})
	if err != nil {
		w.Close()
		return nil, err
	}
	return &acquireSide{spool: w, acq: acq}, nil
}

func (a *acquireSide) close() {
	a.acq.Close()
	a.spool.Close()
}

// spoolOptions are the spool's options as configured, with the logger and
// the data key: sealed by the TPM when there is one, else a file readable
// by the agent only; made at first start. The writer and the reader take
// the same.
func spoolOptions(cfg config.Config, log *slog.Logger) (spool.Options, error) {
	o := cfg.Spool.Options
	o.Logger = log
	if cfg.Spool.KeyFile == "" {
		return o, nil
	}
	k, err := datakey.Load(datakey.Options{TPM: cfg.Trust.TPM, File: cfg.Spool.KeyFile})
	if err != nil {
		return o, fmt.Errorf("spool key: %w", err)
	}
	o.Key = k
	return o, nil
}
