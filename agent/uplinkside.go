package agent

import (
	"cmp"
	"context"
	"crypto"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"medagent/config"
	"medagent/handoff"
	"medagent/mender"
	"medagent/remote"
	"medagent/remote/download"
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
	hand  *handoff.Producer  // where the broker state goes for acquire; nil without a hand-off
	fleet *mender.Client     // nil unless mender.server_url is set
	fetch *remote.Fetcher    // downloads for signed update commands; nil without update.enabled
	now   func() time.Time
	log   *slog.Logger
	url   string // the broker
}

func newUplinkSide(cfg config.Config, log *slog.Logger, now func() time.Time, cmds uplink.CommandFunc, hand *handoff.Producer) (*uplinkSide, error) {
	o, err := spoolOptions(cfg, log)
	if err != nil {
		return nil, err
	}
	r, err := spool.OpenReader(o)
	if err != nil {
		return nil, err
	}
	m := cfg.MQTT
	tlsOpts := tlsconf.Options{CAFile: m.CAFile, CertFile: m.CertFile, KeyFile: m.KeyFile, ServerName: m.ServerName}
	var id *identity.Identity
	if tpm := identity.ResolveTPM(cfg.Trust.TPM); tpm != "" {
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
		ConnectTimeout: m.ConnectTimeout, ConnackTimeout: m.ConnackTimeout,
		FleetSize: m.FleetSize, FleetConnectRate: m.FleetConnectRate,
		Commands: cmds,
		Now:      now, // judges the device certificate: a wrong clock makes the uplink wait, never stop
	}, r, log)
	if err != nil {
		r.Close()
		if id != nil {
			id.Close()
		}
		return nil, err
	}
	side := &uplinkSide{spool: r, up: up, id: id, hand: hand, now: now, log: log, url: m.Broker}
	var signer crypto.Signer
	if id != nil {
		signer = id
	}
	if side.renew, err = newRenewer(cfg, signer, log); err != nil {
		side.close()
		return nil, err
	}
	if side.fleet, err = newMender(cfg, log, signer, tlsOpts, hand); err != nil {
		side.close()
		return nil, err
	}
	if hand != nil && cfg.Update.Enabled {
		if side.fetch, err = newFetcher(cfg, hand, log); err != nil {
			side.close()
			return nil, err
		}
	}
	return side, nil
}

// newFetcher builds the uplink's artifact downloads: HTTPS verified with
// handoff.download_ca_file (else mqtt.ca_file), bounded by
// handoff.max_artifact_bytes, into the hand-off.
func newFetcher(cfg config.Config, hand *handoff.Producer, log *slog.Logger) (*remote.Fetcher, error) {
	roots, err := download.LoadRoots(cfg.DownloadCA())
	if err != nil {
		return nil, err
	}
	dl, err := download.New(download.Options{RootCAs: roots, MaxBytes: cfg.Handoff.MaxArtifactBytes})
	if err != nil {
		return nil, err
	}
	return remote.NewFetcher(hand, dl, log), nil
}

// Run publishes, renews the certificate alongside when configured, and
// keeps the broker state in the hand-off for acquire.
func (u *uplinkSide) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return u.up.Run(ctx) })
	if u.renew != nil {
		g.Go(func() error { return u.renew.Run(ctx) })
	}
	if u.fleet != nil {
		g.Go(func() error { return u.fleet.Run(ctx) })
	}
	if u.hand != nil {
		g.Go(func() error { return remote.ReportUplink(ctx, u.hand, u.brokerState, u.now, u.log) })
	}
	if u.fetch != nil {
		g.Go(func() error { return u.fetch.Run(ctx) })
	}
	return g.Wait()
}

// brokerState is the uplink's state as the hand-off carries it: the
// reason it waits is its last session error.
func (u *uplinkSide) brokerState() handoff.UplinkStatus {
	st := u.up.Status()
	s := handoff.UplinkStatus{Connected: st.Connected, Broker: cmp.Or(st.Broker, u.url), Security: st.Waiting}
	if !st.Connected && st.LastError != nil {
		s.Waiting = st.LastError.Error()
	}
	return s
}

func (u *uplinkSide) close() {
	u.spool.Close()
	if u.id != nil {
		u.id.Close()
	}
}
