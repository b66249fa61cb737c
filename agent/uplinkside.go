package agent

import (
	"context"
	"crypto"
	"log/slog"
	"os"

	"golang.org/x/sync/errgroup"

	"medagent/config"
	"medagent/spool"
	"medagent/tlsconf"
	"medagent/trust/est"
	"medagent/trust/identity"
	"medagent/uplink"
)

// uplinkSide is the uplink role: the spool reader and the MQTT publisher.
// It opens no device nodes.
type uplinkSide struct {
	spool *spool.Reader
	up    *uplink.Uplink
	id    *identity.Identity // the TPM-held device key, if any
	renew *est.Renewer       // nil unless est.url is set
}

func newUplinkSide(cfg config.Config, log *slog.Logger, cmds uplink.CommandFunc) (*uplinkSide, error) {
	key, err := loadDataKey(cfg)
	if err != nil {
		return nil, err
	}
	r, err := spool.OpenReader(spool.Options{
		Dir: cfg.Spool.Dir, ReaderDir: cfg.Spool.ReaderDir, MaxBytes: cfg.Spool.MaxBytes, SegmentBytes: cfg.Spool.SegmentBytes,
		Key: key, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	m := cfg.MQTT
	tlsOpts := tlsconf.Options{CAFile: m.CAFile, CertFile: m.CertFile, KeyFile: m.KeyFile, ServerName: m.ServerName}
	var id *identity.Identity
	if tpm := tpmPath(cfg.Trust.TPM); tpm != "" {
		// The device key never leaves the TPM: TLS signs through it.
		if id, err = identity.Open(identity.Options{TPM: tpm}); err != nil {
			r.Close()
			return nil, err
		}
		tlsOpts.KeyFile, tlsOpts.Signer = "", id
	}
	up, err := uplink.New(uplink.Options{
		Broker:   m.Broker,
		Brokers:  m.Brokers,
		DeviceID: cfg.Device.ID,
		TLS:      tlsOpts,
		Format:   m.Format, TopicPrefix: m.TopicPrefix, InFlight: m.InFlight, KeepAlive: m.KeepAlive,
		BackoffMin: m.BackoffMin, BackoffMax: m.BackoffMax, BackoffResetAfter: m.BackoffResetAfter,
		MaxConnectsPerMinute: m.MaxConnectsPerMinute, ProbeInterval: m.ProbeInterval, MaxPacketBytes: m.MaxPacketBytes,
		Commands: cmds,
	}, r, log)
	if err != nil {
		r.Close()
		if id != nil {
			id.Close()
		}
		return nil, err
	}
	side := &uplinkSide{spool: r, up: up, id: id}
	var signer crypto.Signer
	if id != nil {
		signer = id
	}
	if side.renew, err = newRenewer(cfg, signer, log); err != nil {
		side.close()
		return nil, err
	}
	return side, nil
}

// tpmPath resolves trust.tpm: "off" is none, "" is /dev/tpmrm0 when present.
func tpmPath(cfg string) string {
	switch cfg {
	case "off":
		return ""
	case "":
		if _, err := os.Stat("/dev/tpmrm0"); err == nil {
			return "/dev/tpmrm0"
		}
		return ""
	}
	return cfg
}

// Run publishes, and renews the certificate alongside when configured.
func (u *uplinkSide) Run(ctx context.Context) error {
	if u.renew == nil {
		return u.up.Run(ctx)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return u.up.Run(ctx) })
	g.Go(func() error { return u.renew.Run(ctx) })
	return g.Wait()
}

func (u *uplinkSide) close() {
	u.spool.Close()
	if u.id != nil {
		u.id.Close()
	}
}
