package agent

import (
	"context"
	"log/slog"

	"medagent/config"
	"medagent/spool"
	"medagent/tlsconf"
	"medagent/uplink"
)

// uplinkSide is the uplink role: the spool reader and the MQTT publisher.
// It opens no device nodes.
type uplinkSide struct {
	spool *spool.Reader
	up    *uplink.Uplink
}

func newUplinkSide(cfg config.Config, log *slog.Logger) (*uplinkSide, error) {
	key, err := loadDataKey(cfg.Spool.KeyFile)
	if err != nil {
		return nil, err
	}
	r, err := spool.OpenReader(spool.Options{
		Dir: cfg.Spool.Dir, MaxBytes: cfg.Spool.MaxBytes, SegmentBytes: cfg.Spool.SegmentBytes,
		Key: key, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	m := cfg.MQTT
	up, err := uplink.New(uplink.Options{
		Broker:   m.Broker,
		DeviceID: cfg.Device.ID,
		TLS: tlsconf.Options{
			CAFile: m.CAFile, CertFile: m.CertFile, KeyFile: m.KeyFile, ServerName: m.ServerName,
		},
		Format: m.Format, TopicPrefix: m.TopicPrefix, InFlight: m.InFlight, KeepAlive: m.KeepAlive,
		BackoffMin: m.BackoffMin, BackoffMax: m.BackoffMax,
	}, r, log)
	if err != nil {
		r.Close()
		return nil, err
	}
	return &uplinkSide{spool: r, up: up}, nil
}

func (u *uplinkSide) Run(ctx context.Context) error { return u.up.Run(ctx) }

func (u *uplinkSide) close() { u.spool.Close() }
